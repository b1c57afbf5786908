// Who is signed in: GET /api/v1/me (the shop, its Instagram connection, open alerts, CSRF
// token). A 401 there means "signed out" and is an answer, not an error.
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { $api, client, isApiError, setCsrfToken } from '@/lib/api-client';
import type { components } from '@/lib/api/schema';

export type Me = components['schemas']['Me'];

export const meQueryKey = ['get', '/api/v1/me'] as const;

export function useMe() {
  return $api.useQuery('get', '/api/v1/me', {}, {
    retry: (failures, error) => !(isApiError(error) && error.status === 401) && failures < 2,
    staleTime: 60_000,
  });
}

export function isSignedOut(error: unknown): boolean {
  return isApiError(error) && error.status === 401;
}

export function useAuthOptions() {
  return $api.useQuery('get', '/api/v1/auth/options', {}, { staleTime: Infinity });
}

/** Sign out: the server ends the session; every cached answer of the shop is dropped. */
export function useSignOut() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async () => {
      await client.POST('/api/v1/session/logout');
    },
    onSettled: () => {
      setCsrfToken(null);
      queryClient.clear();
    },
  });
}

/** After the session ended some other way (shop deleted): forget everything cached. */
export function forgetSession(queryClient: ReturnType<typeof useQueryClient>) {
  setCsrfToken(null);
  queryClient.clear();
}
