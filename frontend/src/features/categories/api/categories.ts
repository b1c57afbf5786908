// Categories: list (with how many products each holds), add, rename, delete. Deleting keeps
// the products, without a category.
import { useQueryClient } from '@tanstack/react-query';
import { $api } from '@/lib/api-client';

const KEY = ['get', '/api/v1/catalog/categories'] as const;

export const useCategories = () => $api.useQuery('get', '/api/v1/catalog/categories');

function useInvalidate() {
  const qc = useQueryClient();
  return () => {
    void qc.invalidateQueries({ queryKey: KEY });
    void qc.invalidateQueries({ queryKey: ['get', '/api/v1/catalog/items'] });
  };
}

export function useAddCategory() {
  const invalidate = useInvalidate();
  return $api.useMutation('post', '/api/v1/catalog/categories', { meta: { quiet: true }, onSuccess: invalidate });
}
export function useRenameCategory() {
  const invalidate = useInvalidate();
  return $api.useMutation('put', '/api/v1/catalog/categories/{id}', { meta: { quiet: true }, onSuccess: invalidate });
}
export function useDeleteCategory() {
  const invalidate = useInvalidate();
  return $api.useMutation('delete', '/api/v1/catalog/categories/{id}', { meta: { quiet: true }, onSuccess: invalidate });
}
