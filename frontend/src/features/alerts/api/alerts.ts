// Open alerts (reconnect Instagram, handoffs waiting, model failures, licence) and marking
// one read. The badge in the header and the overview share this query.
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { $api, client } from '@/lib/api-client';
import type { components } from '@/lib/api/schema';

export type AlertItem = components['schemas']['Alert'];

export const alertsKey = ['get', '/api/v1/alerts'] as const;

export function useOpenAlerts() {
  return $api.useQuery('get', '/api/v1/alerts', { params: { query: { state: 'open' } } }, { refetchInterval: 30_000 });
}

export function useMarkAlertRead() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async (id: string) => {
      await client.POST('/api/v1/alerts/{id}/read', { params: { path: { id } } });
    },
    onSettled: () =>
      Promise.all([
        queryClient.invalidateQueries({ queryKey: alertsKey }),
        queryClient.invalidateQueries({ queryKey: ['get', '/api/v1/me'] }),
      ]),
  });
}
