// How many conversations wait for a person (for the navigation badge), refreshed every 15 s.
import { $api } from '@/lib/api-client';

export function useWaitingCount(): { count: number; more: boolean } | null {
  const waiting = $api.useQuery(
    'get',
    '/api/v1/conversations',
    { params: { query: { needs_human: true, state: 'open', limit: 100 } } },
    { refetchInterval: 15_000 },
  );
  if (!waiting.data) return null;
  return { count: waiting.data.conversations.length, more: Boolean(waiting.data.next_cursor) };
}
