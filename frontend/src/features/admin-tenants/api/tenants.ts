// The shops in the console: a tile per shop (?sort=cost|problems|name), disable / enable.
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { $api, client } from '@/lib/api-client';
import type { components } from '@/lib/api/schema';

export type TenantTile = components['schemas']['TenantTile'];
export type TileSort = 'name' | 'cost' | 'problems';

export const TILE_SORTS: TileSort[] = ['name', 'cost', 'problems'];

export function useTenantTiles(sort: TileSort) {
  return $api.useQuery('get', '/api/admin/tenants', { params: { query: { sort } } }, { refetchInterval: 30_000 });
}

export function useSetShopEnabled() {
  const queryClient = useQueryClient();
  return useMutation({
    meta: { quiet: true }, // the confirmation shows the message
    mutationFn: async ({ id, enable }: { id: string; enable: boolean }) => {
      const params = { params: { path: { id } } };
      const { data } = enable
        ? await client.POST('/api/admin/tenants/{id}/enable', params)
        : await client.POST('/api/admin/tenants/{id}/disable', params);
      return data!;
    },
    onSuccess: () =>
      Promise.all([
        queryClient.invalidateQueries({ queryKey: ['get', '/api/admin/tenants'] }),
        queryClient.invalidateQueries({ queryKey: ['get', '/api/admin/licences'] }),
      ]),
  });
}
