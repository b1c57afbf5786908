// Orders: the filtered, paged list, one order, status changes and the CSV export of the
// same filter.
import { useQueryClient } from '@tanstack/react-query';
import { $api, client } from '@/lib/api-client';
import type { components } from '@/lib/api/schema';
import { downloadFile } from '@/lib/download';
import type { OrderFilter } from '@/features/orders/lib/order-filter';

export type { OrderFilter };

export type OrderSummary = components['schemas']['OrderSummary'];
export type OrderDetail = components['schemas']['OrderDetail'];
export type OrderStatus = components['schemas']['OrderStatus'];
export const ORDER_STATUSES: OrderStatus[] = ['pending', 'confirmed', 'shipped', 'delivered', 'cancelled', 'returned'];

export const PER_PAGE = 25;

export const useOrders = (filter: OrderFilter) =>
  $api.useQuery(
    'get',
    '/api/v1/orders',
    { params: { query: { ...filter, per_page: PER_PAGE } } },
    { placeholderData: (previous) => previous },
  );

export const useOrder = (id: string) => $api.useQuery('get', '/api/v1/orders/{id}', { params: { path: { id } } });

type StatusBody = components['schemas']['NewStatus'];
export function useChangeOrderStatus() {
  const qc = useQueryClient();
  return $api.useMutation('post', '/api/v1/orders/{id}/status', {
    meta: { quiet: true },
    onSuccess: (answer) => {
      qc.setQueryData(['get', '/api/v1/orders/{id}', { params: { path: { id: answer.id } } }], answer);
      void qc.invalidateQueries({ queryKey: ['get', '/api/v1/orders'] });
    },
  });
}
export const statusBody = (status: OrderStatus, note?: string) =>
  ({ status, ...(note ? { note } : {}) }) satisfies StatusBody;

export const exportOrders = (filter: OrderFilter) =>
  downloadFile(
    () => client.GET('/api/v1/orders/export.csv', { params: { query: { ...filter, page: undefined } }, parseAs: 'blob' }),
    'orders.csv',
  );
