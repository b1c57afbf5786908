// The orders tab: the list, or one order when the address names it (/orders/:orderId).
import { useParams } from 'react-router';
import { OrderDetailView } from '@/features/orders/components/order-detail';
import { OrderList } from '@/features/orders/components/order-list';

export function OrdersPage() {
  const { orderId } = useParams();
  return orderId ? <OrderDetailView orderId={orderId} /> : <OrderList />;
}

export { OrdersPage as Component };
