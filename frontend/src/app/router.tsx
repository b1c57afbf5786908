// The route table. Every tab is its own lazy module exporting `Component` (and optionally
// `ErrorBoundary`), so its code and its strings load when it is first opened.
import { createBrowserRouter, type RouteObject } from 'react-router';
import { RootLayout, RouteError } from '@/app/layouts/root-layout';
import { FullPageLoading } from '@/app/layouts/full-page-loading';
import { SignedInGuard } from '@/app/layouts/signed-in-guard';
import { DashboardLayout } from '@/app/layouts/dashboard-layout';
import { AdminLayout } from '@/app/layouts/admin-layout';
import { paths } from '@/config/paths';
import { setAdminUnauthorizedHandler, setUnauthorizedHandler } from '@/lib/api-client';

const tab = (path: string, lazy: RouteObject['lazy']): RouteObject => ({ path, lazy });

export const routes: RouteObject[] = [
  {
    id: 'root',
    Component: RootLayout,
    HydrateFallback: FullPageLoading,
    ErrorBoundary: RouteError,
    children: [
      { path: paths.signin.path, lazy: () => import('@/features/auth/routes/signin-page') },
      // The admin console: its own sign-in and shell (admin session, not a merchant's).
      { path: paths.adminSignin.path, lazy: () => import('@/features/admin-auth/routes/admin-signin-page') },
      {
        path: paths.adminTenants.path,
        Component: AdminLayout,
        ErrorBoundary: RouteError,
        children: [
          { index: true, lazy: () => import('@/features/admin-tenants/routes/tenants-page') },
          tab(paths.adminLicences.path, () => import('@/features/admin-licences/routes/licences-page')),
          tab(paths.adminConversations.path, () => import('@/features/admin-conversations/routes/conversations-page')),
          tab(paths.adminConversation.path, () => import('@/features/admin-conversations/routes/conversations-page')),
          tab(paths.adminCosts.path, () => import('@/features/admin-costs/routes/costs-page')),
          tab(paths.adminAlerts.path, () => import('@/features/admin-alerts/routes/alerts-page')),
          { path: '*', lazy: () => import('@/app/routes/not-found') },
        ],
      },
      {
        Component: SignedInGuard,
        children: [
          {
            path: paths.onboarding.path,
            lazy: () => import('@/app/routes/onboarding'),
          },
          {
            Component: DashboardLayout,
            ErrorBoundary: RouteError,
            children: [
              { index: true, lazy: () => import('@/app/routes/overview') },
              tab(paths.inbox.path, () => import('@/features/inbox/routes/inbox-page')),
              tab(paths.conversation.path, () => import('@/features/inbox/routes/inbox-page')),
              tab(paths.orders.path, () => import('@/features/orders/routes/orders-page')),
              tab(paths.order.path, () => import('@/features/orders/routes/orders-page')),
              tab(paths.returns.path, () => import('@/features/returns/routes/returns-page')),
              tab(paths.returnRequest.path, () => import('@/features/returns/routes/returns-page')),
              tab(paths.catalog.path, () => import('@/features/catalog/routes/catalog-page')),
              tab(paths.categories.path, () => import('@/features/categories/routes/categories-page')),
              tab(paths.knowledge.path, () => import('@/features/knowledge/routes/knowledge-page')),
              tab(paths.profile.path, () => import('@/features/profile/routes/profile-page')),
              tab(paths.instructions.path, () => import('@/features/instructions/routes/instructions-page')),
              tab(paths.settings.path, () => import('@/features/settings/routes/settings-page')),
              { path: '*', lazy: () => import('@/app/routes/not-found') },
            ],
          },
        ],
      },
    ],
  },
];

export function createAppRouter() {
  const router = createBrowserRouter(routes);
  setUnauthorizedHandler((returnPath) => {
    void router.navigate(paths.signin.getHref(returnPath), { replace: true });
  });
  setAdminUnauthorizedHandler((returnPath) => {
    void router.navigate(paths.adminSignin.getHref(returnPath), { replace: true });
  });
  return router;
}
