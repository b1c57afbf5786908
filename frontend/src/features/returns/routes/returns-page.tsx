// The returns tab: the list, or one request when the address names it (/returns/:returnId).
import { useParams } from 'react-router';
import { ReturnDetail } from '@/features/returns/components/return-detail';
import { ReturnList } from '@/features/returns/components/return-list';

export function ReturnsPage() {
  const { returnId } = useParams();
  return returnId ? <ReturnDetail returnId={returnId} /> : <ReturnList />;
}

export { ReturnsPage as Component };
