import { describe, expect, it } from 'vitest';
import { isInboxFilter, listQuery } from '@/features/inbox/api/get-conversations';

describe('listQuery', () => {
  it('turns each inbox filter into the API query', () => {
    expect(listQuery('all', '')).toEqual({});
    expect(listQuery('needs_human', '')).toEqual({ needs_human: true });
    expect(listQuery('ai', '')).toEqual({ mode: 'ai' });
    expect(listQuery('human', '')).toEqual({ mode: 'human' });
    expect(listQuery('unread', '')).toEqual({ unread: true });
    expect(listQuery('open', '')).toEqual({ state: 'open' });
    expect(listQuery('closed', '')).toEqual({ state: 'closed' });
  });

  it('adds a trimmed search and drops an empty one', () => {
    expect(listQuery('unread', '  سارة ')).toEqual({ unread: true, search: 'سارة' });
    expect(listQuery('all', '   ')).toEqual({});
  });

  it('accepts only known filters from the URL', () => {
    expect(isInboxFilter('needs_human')).toBe(true);
    expect(isInboxFilter('everything')).toBe(false);
    expect(isInboxFilter(null)).toBe(false);
  });
});
