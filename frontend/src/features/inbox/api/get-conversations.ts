// The conversation list, refreshed every 2.5 s so a new message shows within 5 s.
import { useInfiniteQuery } from '@tanstack/react-query';
import { client } from '@/lib/api-client';

export const INBOX_POLL_MS = 2500;

export const INBOX_FILTERS = ['all', 'needs_human', 'ai', 'human', 'unread', 'open', 'closed'] as const;
export type InboxFilter = (typeof INBOX_FILTERS)[number];

export function isInboxFilter(value: unknown): value is InboxFilter {
  return typeof value === 'string' && (INBOX_FILTERS as readonly string[]).includes(value);
}

type ListQuery = {
  needs_human?: boolean;
  mode?: 'ai' | 'human';
  unread?: boolean;
  state?: 'open' | 'closed';
  search?: string;
  cursor?: string;
  limit?: number;
};

export function listQuery(filter: InboxFilter, search: string): ListQuery {
  const query: ListQuery = {};
  switch (filter) {
    case 'needs_human':
      query.needs_human = true;
      break;
    case 'ai':
    case 'human':
      query.mode = filter;
      break;
    case 'unread':
      query.unread = true;
      break;
    case 'open':
    case 'closed':
      query.state = filter;
      break;
    case 'all':
      break;
  }
  const trimmed = search.trim();
  if (trimmed) query.search = trimmed;
  return query;
}

export const conversationsKey = ['get', '/api/v1/conversations'] as const;

export function useConversations(filter: InboxFilter, search: string) {
  const query = listQuery(filter, search);
  return useInfiniteQuery({
    queryKey: [...conversationsKey, query],
    initialPageParam: undefined as string | undefined,
    queryFn: async ({ pageParam, signal }) => {
      const { data } = await client.GET('/api/v1/conversations', {
        params: { query: { ...query, limit: 30, ...(pageParam ? { cursor: pageParam } : {}) } },
        signal,
      });
      return data!;
    },
    getNextPageParam: (page) => page.next_cursor ?? undefined,
    refetchInterval: INBOX_POLL_MS,
    staleTime: 0,
  });
}
