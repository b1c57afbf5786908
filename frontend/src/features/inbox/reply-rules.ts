// What Instagram lets the shop send in a conversation, from its messaging window:
//   < 24 h since the customer's last message  → a normal reply
//   24 h – 7 days                              → only a human reply, sent with the HUMAN_AGENT tag
//   > 7 days, or the customer never wrote      → nothing (an internal note is still possible)
// The server decides; the client re-checks `closes_at` against its clock so a tab left open
// across a boundary shows the stricter state before the next refresh.
import type { ReplyWindow } from '@/features/inbox/api/types';

export type ReplyAllowance =
  | { kind: 'normal'; closesAt: string | null }
  | { kind: 'tagged'; closesAt: string | null }
  | { kind: 'blocked'; closesAt: null };

export function replyAllowance(window: ReplyWindow | null | undefined, now: Date = new Date()): ReplyAllowance {
  if (!window) return { kind: 'blocked', closesAt: null };
  const closesAt = window.closes_at ?? null;
  const passed = closesAt !== null && new Date(closesAt).getTime() <= now.getTime();
  switch (window.state) {
    case 'open':
      // The 24 h window ran out while the page was open: the 7-day human-agent window follows,
      // but its end is unknown here, so say "tagged" without a date until the server answers.
      return passed ? { kind: 'tagged', closesAt: null } : { kind: 'normal', closesAt };
    case 'human_agent_only':
      return passed ? { kind: 'blocked', closesAt: null } : { kind: 'tagged', closesAt };
    case 'closed':
    default:
      return { kind: 'blocked', closesAt: null };
  }
}

/** The i18n key (namespace `inbox`) that explains the allowance to the merchant. */
export function allowanceMessageKey(allowance: ReplyAllowance): string {
  switch (allowance.kind) {
    case 'normal':
      return allowance.closesAt ? 'reply.window.normalUntil' : 'reply.window.normal';
    case 'tagged':
      return allowance.closesAt ? 'reply.window.taggedUntil' : 'reply.window.tagged';
    case 'blocked':
      return 'reply.window.blocked';
  }
}

export const MAX_REPLY_CHARS = 4000;

/** A reply's text as the server will judge it: 1..=4000 characters after trimming. */
export function replyTextProblem(text: string): 'empty' | 'tooLong' | null {
  const trimmed = text.trim();
  if (trimmed.length === 0) return 'empty';
  if ([...trimmed].length > MAX_REPLY_CHARS) return 'tooLong';
  return null;
}
