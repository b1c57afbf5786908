import { describe, expect, it } from 'vitest';
import { allowanceMessageKey, replyAllowance, replyTextProblem } from '@/features/inbox/reply-rules';

const now = new Date('2026-12-01T12:00:00Z');
const later = '2026-12-01T20:00:00Z';
const earlier = '2026-12-01T11:00:00Z';

describe('replyAllowance', () => {
  it('allows a normal reply inside the 24-hour window', () => {
    const allowance = replyAllowance({ state: 'open', closes_at: later }, now);
    expect(allowance).toEqual({ kind: 'normal', closesAt: later });
    expect(allowanceMessageKey(allowance)).toBe('reply.window.normalUntil');
  });

  it('allows only a tagged human reply between 24 hours and 7 days', () => {
    const allowance = replyAllowance({ state: 'human_agent_only', closes_at: later }, now);
    expect(allowance).toEqual({ kind: 'tagged', closesAt: later });
    expect(allowanceMessageKey(allowance)).toBe('reply.window.taggedUntil');
  });

  it('allows nothing after 7 days or when the customer never wrote', () => {
    expect(replyAllowance({ state: 'closed', closes_at: null }, now).kind).toBe('blocked');
    expect(replyAllowance(null, now).kind).toBe('blocked');
    expect(allowanceMessageKey(replyAllowance({ state: 'closed', closes_at: null }, now))).toBe('reply.window.blocked');
  });

  it('moves to the stricter state when the window ends while the page is open', () => {
    expect(replyAllowance({ state: 'open', closes_at: earlier }, now)).toEqual({ kind: 'tagged', closesAt: null });
    expect(replyAllowance({ state: 'human_agent_only', closes_at: earlier }, now).kind).toBe('blocked');
    expect(allowanceMessageKey(replyAllowance({ state: 'open', closes_at: earlier }, now))).toBe('reply.window.tagged');
  });

  it('treats the exact closing instant as closed', () => {
    expect(replyAllowance({ state: 'human_agent_only', closes_at: now.toISOString() }, now).kind).toBe('blocked');
  });
});

describe('replyTextProblem', () => {
  it('refuses empty and over-long replies as the server does', () => {
    expect(replyTextProblem('   ')).toBe('empty');
    expect(replyTextProblem('مرحبا')).toBeNull();
    expect(replyTextProblem('a'.repeat(4000))).toBeNull();
    expect(replyTextProblem('a'.repeat(4001))).toBe('tooLong');
    expect(replyTextProblem(`  ${'b'.repeat(4000)}  `)).toBeNull();
  });
});
