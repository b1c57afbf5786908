// One conversation's thread: the latest events, polled while open; older pages on demand.
import { useQuery } from '@tanstack/react-query';
import { client } from '@/lib/api-client';
import { INBOX_POLL_MS } from '@/features/inbox/api/get-conversations';

export const threadKey = (id: string) => ['get', '/api/v1/conversations/{id}', id] as const;

export function useThread(id: string | undefined) {
  return useQuery({
    queryKey: threadKey(id ?? ''),
    enabled: Boolean(id),
    queryFn: async ({ signal }) => {
      const { data } = await client.GET('/api/v1/conversations/{id}', {
        params: { path: { id: id! }, query: { limit: 100 } },
        signal,
      });
      return data!;
    },
    refetchInterval: INBOX_POLL_MS,
    staleTime: 0,
  });
}

export async function fetchOlderEvents(id: string, before: string) {
  const { data } = await client.GET('/api/v1/conversations/{id}', {
    params: { path: { id }, query: { before, limit: 100 } },
  });
  return data!;
}
