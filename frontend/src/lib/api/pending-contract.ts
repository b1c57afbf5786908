// TEMPORARY — hand-written from CONTRACT-WEBAPP-API.md for the inbox, alerts and "my data"
// endpoints the backend is adding right now. Delete this file (and its use in api-client.ts)
// as soon as `npm run gen:api` brings these paths into schema.d.ts.
/* eslint-disable */

type Json<T> = { headers: { [name: string]: unknown }; content: { 'application/json': T } };
type NoContent = { headers: { [name: string]: unknown }; content?: never };
type Refused = Json<{ error: string; message: string }>;
type Op<Query, Path, Body, Ok, Code extends 200 | 201 | 204 = 200> = {
  parameters: {
    query?: [Query] extends [never] ? never : Query;
    header?: never;
    cookie?: never;
  } & ([Path] extends [never] ? { path?: never } : { path: Path });
  responses: { [K in Code]: [Ok] extends [never] ? NoContent : Json<Ok> } & { '4XX': Refused; '5XX': Refused };
} & ([Body] extends [never]
  ? { requestBody?: never }
  : { requestBody: { content: { 'application/json': Body } } });
type HttpMethod = 'get' | 'put' | 'post' | 'delete' | 'options' | 'head' | 'patch' | 'trace';
type Path<Methods extends Partial<Record<HttpMethod, unknown>>> = {
  parameters: { query?: never; header?: never; path?: never; cookie?: never };
} & Methods & { [K in Exclude<HttpMethod, keyof Methods>]?: never };

export type Author = 'customer' | 'ai' | 'merchant' | 'merchant_app' | 'system';
export type WindowState = 'open' | 'human_agent_only' | 'closed';

export interface PendingSchemas {
  Customer: { ig_id: string; username?: string | null; name?: string | null };
  CustomerDetails: PendingSchemas['Customer'] & {
    phone?: string | null;
    city?: string | null;
    address?: string | null;
  };
  Window: { state: WindowState; closes_at?: string | null };
  LastMessage: { author: Author; text?: string | null };
  ConversationSummary: {
    id: string;
    customer: PendingSchemas['Customer'];
    mode: 'ai' | 'human';
    needs_human: boolean;
    handoff_reason?: string | null;
    state: 'open' | 'closed';
    unread_count: number;
    last_message_at?: string | null;
    last_customer_message_at?: string | null;
    last_message?: PendingSchemas['LastMessage'] | null;
    window: PendingSchemas['Window'];
  };
  ConversationDetail: Omit<PendingSchemas['ConversationSummary'], 'customer'> & {
    customer: PendingSchemas['CustomerDetails'];
  };
  ConversationList: { conversations: PendingSchemas['ConversationSummary'][]; next_cursor?: string | null };
  ConversationChanges: { conversations: PendingSchemas['ConversationSummary'][]; cursor: string };
  ThreadEvent: {
    id: string;
    at: string;
    kind: 'message' | 'note' | 'handoff' | 'mode_change' | 'order' | 'tool' | 'closed' | 'reopened';
    author: Author;
    text?: string | null;
    attachments: { type: string; url?: string | null }[];
    reply_to?: { story_url?: string | null; mid?: string | null; text?: string | null } | null;
    reaction?: string | null;
    delivery?: { status: 'pending' | 'sent' | 'failed'; error?: string | null } | null;
    order?: { id: string; number: string; status: string; total_jod: string } | null;
    tool?: { name: string; summary: string } | null;
  };
  Thread: {
    conversation: PendingSchemas['ConversationDetail'];
    events: PendingSchemas['ThreadEvent'][];
    older_cursor?: string | null;
  };
  TextInput: { text: string };
  AlertItem: {
    id: string;
    kind: string;
    severity: 'info' | 'warning' | 'critical';
    message: string;
    created_at: string;
    acknowledged_at?: string | null;
  };
  AlertList: { alerts: PendingSchemas['AlertItem'][] };
  DeleteShop: { confirm: string };
}

type S = PendingSchemas;
type Id = { id: string };
type ListQuery = {
  needs_human?: boolean;
  mode?: 'ai' | 'human';
  unread?: boolean;
  state?: 'open' | 'closed';
  search?: string;
  cursor?: string;
  limit?: number;
};

export interface PendingPaths {
  '/api/v1/conversations': Path<{ get: Op<ListQuery, never, never, S['ConversationList']> }>;
  '/api/v1/conversations/changes': Path<{ get: Op<{ since?: string }, never, never, S['ConversationChanges']> }>;
  '/api/v1/conversations/{id}': Path<{
    get: Op<{ before?: string; limit?: number }, Id, never, S['Thread']>;
  }>;
  '/api/v1/conversations/{id}/takeover': Path<{ post: Op<never, Id, never, S['ConversationSummary']> }>;
  '/api/v1/conversations/{id}/handback': Path<{ post: Op<never, Id, never, S['ConversationSummary']> }>;
  '/api/v1/conversations/{id}/reply': Path<{ post: Op<never, Id, S['TextInput'], S['ThreadEvent'], 201> }>;
  '/api/v1/conversations/{id}/notes': Path<{ post: Op<never, Id, S['TextInput'], S['ThreadEvent'], 201> }>;
  '/api/v1/conversations/{id}/read': Path<{ post: Op<never, Id, never, never, 204> }>;
  '/api/v1/conversations/{id}/close': Path<{ post: Op<never, Id, never, S['ConversationSummary']> }>;
  '/api/v1/conversations/{id}/reopen': Path<{ post: Op<never, Id, never, S['ConversationSummary']> }>;
  '/api/v1/alerts': Path<{ get: Op<{ state?: 'open' | 'all' }, never, never, S['AlertList']> }>;
  '/api/v1/alerts/{id}/read': Path<{ post: Op<never, Id, never, never, 204> }>;
  '/api/v1/shop/export': Path<{ get: Op<never, never, never, never> }>;
  '/api/v1/shop': Path<{ delete: Op<never, never, S['DeleteShop'], never, 204> }>;
}
