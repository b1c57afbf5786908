// Licences in the console: the verified whitelist with the shop each handle matches, and
// add / extend / remove (signed and published by the server). Without a signing key the
// server answers 409 `read_only` with the CLI commands to run instead.
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { $api, client, isApiError } from '@/lib/api-client';
import type { components } from '@/lib/api/schema';

export type LicencesView = components['schemas']['LicencesView'];
export type LicenceRow = components['schemas']['LicenceRow'];
export type ShopTile = components['schemas']['TenantTile'];

export const licencesKey = ['get', '/api/admin/licences'] as const;

export function useLicences() {
  return $api.useQuery('get', '/api/admin/licences');
}

/** The shops, to offer the ones without a licence. */
export function useShopsForLicences() {
  return $api.useQuery('get', '/api/admin/tenants', { params: { query: { sort: 'name' } } });
}

function invalidate(queryClient: ReturnType<typeof useQueryClient>) {
  return Promise.all([
    queryClient.invalidateQueries({ queryKey: licencesKey }),
    queryClient.invalidateQueries({ queryKey: ['get', '/api/admin/tenants'] }),
    queryClient.invalidateQueries({ queryKey: ['get', '/api/admin/alerts'] }),
  ]);
}

export function useSetLicence() {
  const queryClient = useQueryClient();
  return useMutation({
    meta: { quiet: true }, // the dialog shows the message (and the CLI commands when read-only)
    mutationFn: async ({ handle, expiresOn }: { handle: string; expiresOn: string }) => {
      const { data } = await client.PUT('/api/admin/licences/{handle}', {
        params: { path: { handle } },
        body: { expires_on: expiresOn },
      });
      return data!;
    },
    onSuccess: () => invalidate(queryClient),
  });
}

export function useRemoveLicence() {
  const queryClient = useQueryClient();
  return useMutation({
    meta: { quiet: true },
    mutationFn: async (handle: string) => {
      await client.DELETE('/api/admin/licences/{handle}', { params: { path: { handle } } });
    },
    onSuccess: () => invalidate(queryClient),
  });
}

/** The CLI commands a 409 `read_only` answer names, if that is what `error` is. */
export function cliOf(error: unknown): string[] {
  if (!isApiError(error) || error.code !== 'read_only') return [];
  const cli = (error.body as { cli?: unknown } | null)?.cli;
  return Array.isArray(cli) ? cli.filter((c): c is string => typeof c === 'string') : [];
}
