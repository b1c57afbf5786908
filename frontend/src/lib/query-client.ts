// The shared react-query client. Queries retry only failures that may pass (network, 5xx);
// a refused request (4xx) is shown at once. Failed mutations toast the server's message.
import { MutationCache, QueryClient } from '@tanstack/react-query';
import { errorMessage, isApiError } from '@/lib/api-client';
import { toaster } from '@/components/toaster';

export const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      staleTime: 15_000,
      refetchOnWindowFocus: true,
      retry: (failures, error) =>
        failures < 2 && (!isApiError(error) || error.status === 0 || error.status >= 500),
    },
    mutations: { retry: false },
  },
  mutationCache: new MutationCache({
    onError: (error, _variables, _context, mutation) => {
      if (mutation.meta?.quiet) return;
      toaster.create({ type: 'error', description: errorMessage(error), closable: true });
    },
  }),
});

declare module '@tanstack/react-query' {
  interface Register {
    mutationMeta: { quiet?: boolean };
  }
}
