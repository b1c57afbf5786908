// The cost tracker: cost per shop per day, totals per model and the price table for a range
// (Asia/Amman days), and the per-shop monthly budget (set / remove).
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { $api, client } from '@/lib/api-client';
import type { components } from '@/lib/api/schema';

export type Costs = components['schemas']['Costs'];
export type BudgetShop = components['schemas']['TenantTile'];

export function useCosts(from: string, to: string) {
  return $api.useQuery('get', '/api/admin/costs', { params: { query: { from, to } } }, { refetchInterval: 60_000 });
}

/** The shops with their budgets (the tiles carry them). */
export function useBudgetShops() {
  return $api.useQuery('get', '/api/admin/tenants', { params: { query: { sort: 'cost' } } });
}

function invalidate(queryClient: ReturnType<typeof useQueryClient>) {
  return Promise.all([
    queryClient.invalidateQueries({ queryKey: ['get', '/api/admin/tenants'] }),
    queryClient.invalidateQueries({ queryKey: ['get', '/api/admin/alerts'] }),
  ]);
}

export function useSetBudget() {
  const queryClient = useQueryClient();
  return useMutation({
    meta: { quiet: true }, // the dialog shows the message
    mutationFn: async ({ id, monthlyUsd, pauseAtLimit }: { id: string; monthlyUsd: string; pauseAtLimit: boolean }) => {
      const { data } = await client.PUT('/api/admin/tenants/{id}/budget', {
        params: { path: { id } },
        body: { monthly_usd: monthlyUsd, pause_at_limit: pauseAtLimit },
      });
      return data!;
    },
    onSuccess: () => invalidate(queryClient),
  });
}

export function useRemoveBudget() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async (id: string) => {
      await client.DELETE('/api/admin/tenants/{id}/budget', { params: { path: { id } } });
    },
    onSuccess: () => invalidate(queryClient),
  });
}
