// The inbox's API shapes. TEMPORARY source: the contract types, until schema.d.ts has them;
// then these become aliases of components['schemas'][…].
import type { PendingSchemas } from '@/lib/api/pending-contract';

export type ConversationSummary = PendingSchemas['ConversationSummary'];
export type ConversationDetail = PendingSchemas['ConversationDetail'];
export type ThreadEvent = PendingSchemas['ThreadEvent'];
export type Thread = PendingSchemas['Thread'];
export type ReplyWindow = PendingSchemas['Window'];
export type Author = ThreadEvent['author'];
