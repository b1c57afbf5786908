// Return requests: the list (optionally by status), one request, and its status changes.
import { useQueryClient } from '@tanstack/react-query';
import { $api } from '@/lib/api-client';
import type { components } from '@/lib/api/schema';

export type ReturnRequest = components['schemas']['ReturnRequest'];
export type ReturnStatus = components['schemas']['ReturnStatus'];
export const RETURN_STATUSES: ReturnStatus[] = ['requested', 'approved', 'rejected', 'received', 'refunded'];

export const useReturns = (status?: string) =>
  $api.useQuery('get', '/api/v1/returns', { params: { query: { status: status || undefined } } });

export const useReturn = (id: string) => $api.useQuery('get', '/api/v1/returns/{id}', { params: { path: { id } } });

export const returnStatusBody = (status: ReturnStatus, note?: string) =>
  ({ status, ...(note ? { note } : {}) }) satisfies components['schemas']['NewStatus'];

export function useChangeReturnStatus() {
  const qc = useQueryClient();
  return $api.useMutation('post', '/api/v1/returns/{id}/status', {
    meta: { quiet: true },
    onSuccess: (answer) => {
      qc.setQueryData(['get', '/api/v1/returns/{id}', { params: { path: { id: answer.id } } }], answer);
      void qc.invalidateQueries({ queryKey: ['get', '/api/v1/returns'] });
      void qc.invalidateQueries({ queryKey: ['get', '/api/v1/orders'] });
    },
  });
}
