// The inbox's API shapes, named as the generated schema names them.
import type { components } from '@/lib/api/schema';

type Schemas = components['schemas'];
export type ConversationSummary = Schemas['ConversationSummary'];
export type ConversationDetail = Schemas['ConversationDetail'];
export type ThreadEvent = Schemas['ThreadEvent'];
export type Thread = Schemas['Thread'];
export type ReplyWindow = Schemas['Window'];
export type Author = Schemas['Author'];
