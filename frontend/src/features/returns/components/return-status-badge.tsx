import { Badge } from '@chakra-ui/react';
import { useTranslation } from 'react-i18next';

const PALETTE: Record<string, string> = { requested: 'orange', approved: 'blue', rejected: 'gray', received: 'purple', refunded: 'green' };

export function ReturnStatusBadge({ status }: { status: string }) {
  const { t } = useTranslation('returns');
  return <Badge colorPalette={PALETTE[status] ?? 'gray'}>{t(`status.${status}`, { defaultValue: status })}</Badge>;
}
