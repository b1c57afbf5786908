import { describe, expect, it } from 'vitest';
import { paths, safeAdminReturnPath, safeReturnPath } from '@/config/paths';

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

describe('admin paths', () => {
  it('returns only to console paths after the admin sign-in', () => {
    expect(paths.adminSignin.getHref('/admin/costs')).toBe('/admin/signin?next=%2Fadmin%2Fcosts');
    expect(paths.adminSignin.getHref('/admin')).toBe('/admin/signin');
    expect(safeAdminReturnPath('/admin/licences')).toBe('/admin/licences');
    expect(safeAdminReturnPath('/admin')).toBe('/admin');
    expect(safeAdminReturnPath('/orders')).toBeNull();
    expect(safeAdminReturnPath('/administrator')).toBeNull();
    expect(safeAdminReturnPath('/admin/signin?next=/admin')).toBeNull();
  });

  it('names a shop and page in the conversation viewer link', () => {
    expect(paths.adminConversations.getHref()).toBe('/admin/conversations');
    expect(paths.adminConversations.getHref('t1', 2)).toBe('/admin/conversations?shop=t1&page=2');
    expect(paths.adminConversation.getHref('t1', 'c 1')).toBe('/admin/conversations/t1/c%201');
  });
});
