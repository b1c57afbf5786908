import { Badge } from '@chakra-ui/react';
import { useTranslation } from 'react-i18next';

const PALETTE: Record<string, string> = {
  pending: 'orange',
  confirmed: 'blue',
  shipped: 'purple',
  delivered: 'green',
  cancelled: 'gray',
  returned: 'red',
};

export function OrderStatusBadge({ status }: { status: string }) {
  const { t } = useTranslation('orders');
  return <Badge colorPalette={PALETTE[status] ?? 'gray'}>{t(`status.${status}`, { defaultValue: status })}</Badge>;
}
