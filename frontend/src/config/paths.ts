// Every route of the app, named once. Links and redirects use `getHref()`, the router uses `path`.
export const paths = {
  signin: {
    path: '/signin',
    getHref: (next?: string) =>
      next && next !== '/' ? `/signin?next=${encodeURIComponent(next)}` : '/signin',
  },
  onboarding: {
    path: '/onboarding',
    getHref: (step?: string) => (step ? `/onboarding?step=${encodeURIComponent(step)}` : '/onboarding'),
  },
  overview: { path: '/', getHref: () => '/' },
  inbox: { path: '/inbox', getHref: () => '/inbox' },
  conversation: {
    path: '/inbox/:conversationId',
    getHref: (conversationId: string) => `/inbox/${encodeURIComponent(conversationId)}`,
  },
  orders: { path: '/orders', getHref: () => '/orders' },
  order: {
    path: '/orders/:orderId',
    getHref: (orderId: string) => `/orders/${encodeURIComponent(orderId)}`,
  },
  returns: { path: '/returns', getHref: () => '/returns' },
  returnRequest: {
    path: '/returns/:returnId',
    getHref: (returnId: string) => `/returns/${encodeURIComponent(returnId)}`,
  },
  catalog: { path: '/catalog', getHref: () => '/catalog' },
  categories: { path: '/categories', getHref: () => '/categories' },
  knowledge: { path: '/knowledge', getHref: () => '/knowledge' },
  profile: { path: '/profile', getHref: () => '/profile' },
  instructions: { path: '/instructions', getHref: () => '/instructions' },
  settings: { path: '/settings', getHref: () => '/settings' },

  // The product owner's console: its own sign-in, shell and session.
  adminSignin: {
    path: '/admin/signin',
    getHref: (next?: string) =>
      next && next !== '/admin' ? `/admin/signin?next=${encodeURIComponent(next)}` : '/admin/signin',
  },
  adminTenants: { path: '/admin', getHref: () => '/admin' },
  adminLicences: { path: '/admin/licences', getHref: () => '/admin/licences' },
  adminConversations: {
    path: '/admin/conversations',
    getHref: (tenantId?: string, page?: number) => {
      const query = new URLSearchParams();
      if (tenantId) query.set('shop', tenantId);
      if (page && page > 1) query.set('page', String(page));
      const q = query.toString();
      return q ? `/admin/conversations?${q}` : '/admin/conversations';
    },
  },
  adminConversation: {
    path: '/admin/conversations/:tenantId/:conversationId',
    getHref: (tenantId: string, conversationId: string) =>
      `/admin/conversations/${encodeURIComponent(tenantId)}/${encodeURIComponent(conversationId)}`,
  },
  adminCosts: { path: '/admin/costs', getHref: () => '/admin/costs' },
  adminAlerts: { path: '/admin/alerts', getHref: () => '/admin/alerts' },
} as const;

/** Where Instagram sign-in starts (a server route, so a full page load, not a router link). */
export const INSTAGRAM_OAUTH_START = '/api/instagram/oauth/start';

/** Only console paths are accepted as a return path after the admin sign-in. */
export function safeAdminReturnPath(next: string | null | undefined): string | null {
  if (!next || !(next === '/admin' || next.startsWith('/admin/')) || next.startsWith('/admin/signin')) {
    return null;
  }
  return next;
}

/** Only same-site paths are accepted as a return path after sign-in. */
export function safeReturnPath(next: string | null | undefined): string | null {
  if (!next || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/signin')) {
    return null;
  }
  return next;
}
