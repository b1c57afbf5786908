// AI instructions (free text), business rules, and the test chat that runs the real agent
// against the shop's data without Instagram.
import { useQueryClient } from '@tanstack/react-query';
import { $api } from '@/lib/api-client';
import type { components } from '@/lib/api/schema';

export type BusinessRules = components['schemas']['BusinessRules'];
export type TestChatAnswer = components['schemas']['TestChatAnswer'];

export const useInstructions = () => $api.useQuery('get', '/api/v1/ai-instructions');
export const useBusinessRules = () => $api.useQuery('get', '/api/v1/business-rules');

export function useSaveInstructions() {
  const qc = useQueryClient();
  return $api.useMutation('put', '/api/v1/ai-instructions', {
    meta: { quiet: true },
    onSuccess: () => void qc.invalidateQueries({ queryKey: ['get', '/api/v1/ai-instructions'] }),
  });
}

export function useSaveBusinessRules() {
  const qc = useQueryClient();
  return $api.useMutation('put', '/api/v1/business-rules', {
    meta: { quiet: true },
    onSuccess: (answer) => qc.setQueryData(['get', '/api/v1/business-rules'], answer),
  });
}

export function useTestChat() {
  const qc = useQueryClient();
  return $api.useMutation('post', '/api/v1/test-chat', {
    meta: { quiet: true },
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: ['get', '/api/v1/orders'] });
      void qc.invalidateQueries({ queryKey: ['get', '/api/v1/catalog/items'] });
    },
  });
}
