// The read-only conversation viewer: pick a shop, its conversations (50 a page), one
// conversation. The server writes every view of a conversation to the audit log.
import { $api } from '@/lib/api-client';
import type { components } from '@/lib/api/schema';

export type AdminConversationRow = components['schemas']['ConversationRow'];
export type ViewedMessage = components['schemas']['ViewedMessage'];

export function useShopsToView() {
  return $api.useQuery('get', '/api/admin/tenants', { params: { query: { sort: 'name' } } });
}

export function useShopConversations(tenantId: string | null, page: number) {
  return $api.useQuery(
    'get',
    '/api/admin/tenants/{id}/conversations',
    { params: { path: { id: tenantId ?? '' }, query: { page } } },
    { enabled: Boolean(tenantId) },
  );
}

export function useViewedConversation(tenantId: string, conversationId: string) {
  // Each fetch is one audited view: no background refetches.
  return $api.useQuery(
    'get',
    '/api/admin/tenants/{id}/conversations/{conversation_id}',
    { params: { path: { id: tenantId, conversation_id: conversationId } } },
    { staleTime: Infinity, refetchOnWindowFocus: false },
  );
}

/** How many pages `total` rows make at `perPage` (at least one). */
export function pageCount(total: number, perPage: number): number {
  return Math.max(1, Math.ceil(total / Math.max(1, perPage)));
}
