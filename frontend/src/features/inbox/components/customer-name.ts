import type { ConversationSummary } from '@/features/inbox/api/types';

/** How a customer is called on screen: their name, else @username, else their Instagram id. */
export function customerName(customer: ConversationSummary['customer']): string {
  return customer.name?.trim() || (customer.username ? `@${customer.username}` : customer.ig_id);
}
