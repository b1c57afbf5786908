// Who is signed in to the admin console: GET /api/admin/me (e-mail, CSRF token, whether this
// server signs licences). A 401 there means "signed out of the console" — a merchant's session
// never counts. Sign-in and sign-out keep the admin CSRF token in the one client.
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { $api, client, isApiError, setAdminCsrfToken } from '@/lib/api-client';
import type { components } from '@/lib/api/schema';

export type AdminMe = components['schemas']['AdminMe'];

export const adminMeKey = ['get', '/api/admin/me'] as const;

export function useAdminMe() {
  return $api.useQuery('get', '/api/admin/me', {}, {
    retry: (failures, error) => !(isApiError(error) && error.status === 401) && failures < 2,
    staleTime: 60_000,
  });
}

/** Drops every cached console answer (after sign-in or sign-out). */
function forgetConsole(queryClient: ReturnType<typeof useQueryClient>) {
  queryClient.removeQueries({ predicate: (q) => String(q.queryKey[1] ?? '').startsWith('/api/admin/') });
}

export function useAdminSignIn() {
  const queryClient = useQueryClient();
  return useMutation({
    meta: { quiet: true }, // the form shows the server's message
    mutationFn: async (body: { email: string; password: string }) => {
      const { data } = await client.POST('/api/admin/auth/sign-in', { body });
      return data!;
    },
    onSuccess: (me) => {
      setAdminCsrfToken(me.csrf_token);
      forgetConsole(queryClient);
    },
  });
}

export function useAdminSignOut() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async () => {
      await client.POST('/api/admin/auth/sign-out');
    },
    onSettled: () => {
      setAdminCsrfToken(null);
      forgetConsole(queryClient);
    },
  });
}
