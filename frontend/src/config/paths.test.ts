import { describe, expect, it } from 'vitest';
import { paths, safeReturnPath } from '@/config/paths';

describe('paths', () => {
  it('builds the sign-in link with a return path', () => {
    expect(paths.signin.getHref('/inbox/abc?filter=unread')).toBe('/signin?next=%2Finbox%2Fabc%3Ffilter%3Dunread');
    expect(paths.signin.getHref('/')).toBe('/signin');
    expect(paths.conversation.getHref('a b')).toBe('/inbox/a%20b');
  });

  it('returns only to same-site paths after sign-in', () => {
    expect(safeReturnPath('/orders')).toBe('/orders');
    expect(safeReturnPath('//evil.example')).toBeNull();
    expect(safeReturnPath('https://evil.example')).toBeNull();
    expect(safeReturnPath('/signin?next=/x')).toBeNull();
    expect(safeReturnPath(null)).toBeNull();
  });
});
