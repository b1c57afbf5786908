// Platform alerts: stored ones (acknowledgeable) and those computed on each request (tokens
// and licences expiring, budgets, dead letters, an unusable whitelist).
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { $api, client } from '@/lib/api-client';
import type { components } from '@/lib/api/schema';

export type PlatformAlert = components['schemas']['PlatformAlert'];

export function usePlatformAlerts() {
  return $api.useQuery('get', '/api/admin/alerts', {}, { refetchInterval: 30_000 });
}

export function useAcknowledgeAlert() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async (id: string) => {
      await client.POST('/api/admin/alerts/{id}/acknowledge', { params: { path: { id } } });
    },
    onSettled: () => queryClient.invalidateQueries({ queryKey: ['get', '/api/admin/alerts'] }),
  });
}
