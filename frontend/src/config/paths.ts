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
} as const;

/** Where Instagram sign-in starts (a server route, so a full page load, not a router link). */
export const INSTAGRAM_OAUTH_START = '/api/instagram/oauth/start';

/** Only same-site paths are accepted as a return path after sign-in. */
export function safeReturnPath(next: string | null | undefined): string | null {
  if (!next || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/signin')) {
    return null;
  }
  return next;
}
