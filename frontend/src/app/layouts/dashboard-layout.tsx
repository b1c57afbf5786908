// The signed-in dashboard: side navigation (a drawer at phone width), the shop's handle,
// open alerts, language switch and sign-out around the current tab.
import {
  Badge,
  Box,
  Button,
  CloseButton,
  Drawer,
  Flex,
  IconButton,
  Link,
  Portal,
  Separator,
  Stack,
  Text,
  VisuallyHidden,
} from '@chakra-ui/react';
import { Suspense, useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { LuBell, LuLogOut, LuMenu, LuRocket } from 'react-icons/lu';
import { NavLink, Outlet, Link as RouterLink, useLocation, useNavigate } from 'react-router';
import { navItems } from '@/app/layouts/nav-items';
import { LanguageSwitch } from '@/components/language-switch';
import { LoadingSkeleton } from '@/components/loading-skeleton';
import { paths } from '@/config/paths';
import { useOpenAlerts } from '@/features/alerts/api/alerts';
import { useWaitingCount } from '@/features/inbox/api/get-waiting-count';
import { useMe, useSignOut } from '@/lib/auth';
import { Sidebar, SkipLink } from '@/app/layouts/shell-parts';


function WaitingBadge() {
  const { t } = useTranslation();
  const waiting = useWaitingCount();
  if (!waiting || waiting.count === 0) return null;
  return (
    <Badge colorPalette="orange" variant="solid" bg="orange.700" color="white" size="sm" ms="auto" data-testid="waiting-count">
      <span aria-hidden>{waiting.more ? `${waiting.count}+` : waiting.count}</span>
      <VisuallyHidden>{t('nav.waiting', { count: waiting.count })}</VisuallyHidden>
    </Badge>
  );
}

function NavList({ onNavigate }: { onNavigate?: () => void }) {
  const { t } = useTranslation();
  return (
    <Stack as="ul" gap="0.5" listStyleType="none" m="0" p="0">
      {navItems.map((item) => (
        <Box as="li" key={item.key}>
          <Link
            asChild
            display="flex"
            alignItems="center"
            gap="3"
            px="3"
            py="2"
            rounded="md"
            color="fg.muted"
            textDecoration="none"
            _hover={{ bg: 'bg.muted', color: 'fg', textDecoration: 'none' }}
            css={{ '&[aria-current=page]': { bg: 'blue.subtle', color: 'blue.fg', fontWeight: 'semibold' } }}
          >
            <NavLink to={item.href} end={item.end ?? false} onClick={onNavigate}>
              <item.icon aria-hidden />
              {t(`nav.${item.key}`)}
              {item.key === 'inbox' && <WaitingBadge />}
            </NavLink>
          </Link>
        </Box>
      ))}
    </Stack>
  );
}

function ShopName() {
  const me = useMe();
  const tenant = me.data?.tenant;
  const handle = tenant?.ig_handle ? `@${tenant.ig_handle}` : (tenant?.display_name ?? '');
  return (
    <Text fontWeight="semibold" truncate data-testid="shop-handle" title={handle}>
      <bdi>{handle}</bdi>
    </Text>
  );
}

function AlertsBadge() {
  const { t } = useTranslation();
  const me = useMe();
  const alerts = useOpenAlerts();
  // /api/v1/me carries the open alerts too; it covers a failed alerts request.
  const count = alerts.data?.alerts.length ?? me.data?.alerts.length ?? 0;
  return (
    <Button asChild size="sm" variant="ghost">
      <RouterLink to={`${paths.overview.getHref()}#alerts`}>
        <LuBell aria-hidden />
        <VisuallyHidden>{t('alerts.badge', { count })}</VisuallyHidden>
        {count > 0 && (
          <Badge colorPalette="red" variant="solid" size="sm" data-testid="alerts-count" aria-hidden>
            {count}
          </Badge>
        )}
      </RouterLink>
    </Button>
  );
}

function SignOutButton() {
  const { t } = useTranslation();
  const signOut = useSignOut();
  const navigate = useNavigate();
  return (
    <Button
      size="sm"
      variant="ghost"
      loading={signOut.isPending}
      aria-label={t('actions.signOut')}
      onClick={() =>
        signOut.mutate(undefined, {
          onSettled: () => void navigate(paths.signin.getHref(), { replace: true }),
        })
      }
    >
      <LuLogOut aria-hidden />
      <Box as="span" display={{ base: 'none', md: 'inline' }}>
        {t('actions.signOut')}
      </Box>
    </Button>
  );
}

export function DashboardLayout() {
  const { t } = useTranslation();
  const [menuOpen, setMenuOpen] = useState(false);
  const location = useLocation();
  const section = location.pathname.split('/')[1] ?? '';

  // Each tab names the browser tab (and what a screen reader announces on navigation).
  useEffect(() => {
    const item = navItems.find((entry) => entry.href === `/${section}`);
    document.title = item ? `${t(`nav.${item.key}`)} · ${t('appName')}` : t('appName');
  }, [section, t]);

  return (
    <Flex minH="100dvh" bg="bg.subtle">
      <SkipLink>{t('skipToContent')}</SkipLink>

      <Sidebar label={t('nav.label')}>
        <Box px="3" py="2">
          <Text fontSize="xs" color="fg.muted">
            {t('appName')}
          </Text>
          <ShopName />
        </Box>
        <NavList />
        <Separator />
        <Link asChild px="3" color="fg.muted" fontSize="sm">
          <RouterLink to={paths.onboarding.getHref()}>
            <LuRocket aria-hidden />
            {t('nav.onboarding')}
          </RouterLink>
        </Link>
      </Sidebar>

      <Drawer.Root
        open={menuOpen}
        onOpenChange={(details) => setMenuOpen(details.open)}
        placement="start"
      >
        <Portal>
          <Drawer.Backdrop />
          <Drawer.Positioner>
            <Drawer.Content maxW="18rem">
              <Drawer.Header>
                <Drawer.Title>
                  <ShopName />
                </Drawer.Title>
              </Drawer.Header>
              <Drawer.Body as="nav" aria-label={t('nav.label')}>
                <NavList onNavigate={() => setMenuOpen(false)} />
                <Separator my="3" />
                <Link asChild px="3" color="fg.muted" fontSize="sm">
                  <RouterLink to={paths.onboarding.getHref()} onClick={() => setMenuOpen(false)}>
                    <LuRocket aria-hidden />
                    {t('nav.onboarding')}
                  </RouterLink>
                </Link>
              </Drawer.Body>
              <Drawer.CloseTrigger asChild>
                <CloseButton size="sm" aria-label={t('actions.close')} />
              </Drawer.CloseTrigger>
            </Drawer.Content>
          </Drawer.Positioner>
        </Portal>
      </Drawer.Root>

      <Flex direction="column" flex="1" minW="0">
        <Flex
          as="header"
          align="center"
          gap="2"
          px={{ base: '2', md: '6' }}
          h="14"
          bg="bg"
          borderBottomWidth="1px"
          position="sticky"
          top="0"
          zIndex="sticky"
        >
          <IconButton
            display={{ base: 'inline-flex', md: 'none' }}
            variant="ghost"
            aria-label={t('nav.open')}
            onClick={() => setMenuOpen(true)}
          >
            <LuMenu />
          </IconButton>
          <Box display={{ base: 'block', md: 'none' }} minW="0" flex="1">
            <ShopName />
          </Box>
          <Box flex="1" display={{ base: 'none', md: 'block' }} />
          <AlertsBadge />
          <LanguageSwitch />
          <SignOutButton />
        </Flex>
        <Box as="main" id="main" tabIndex={-1} flex="1" p={{ base: '3', md: '6' }} minW="0" _focus={{ outline: 'none' }}>
          <Suspense key={section} fallback={<LoadingSkeleton />}>
            <Outlet />
          </Suspense>
        </Box>
      </Flex>
    </Flex>
  );
}
