// The admin console's shell: its own guard (a 401 from /api/admin/me leads to the admin
// sign-in; a merchant's session does not count), side navigation (a drawer at phone width),
// the admin's e-mail, language switch and sign-out.
import {
  Badge,
  Box,
  Button,
  Center,
  CloseButton,
  Drawer,
  Flex,
  IconButton,
  Link,
  Portal,
  Stack,
  Text,
} from '@chakra-ui/react';
import { Suspense, useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { LuLogOut, LuMenu } from 'react-icons/lu';
import { Navigate, NavLink, Outlet, useLocation, useNavigate } from 'react-router';
import { adminNavItems } from '@/app/layouts/admin-nav-items';
import { FullPageLoading } from '@/app/layouts/full-page-loading';
import { ErrorAlert } from '@/components/error-alert';
import { LanguageSwitch } from '@/components/language-switch';
import { LoadingSkeleton } from '@/components/loading-skeleton';
import { paths } from '@/config/paths';
import { useAdminMe, useAdminSignOut } from '@/lib/admin-auth';
import { isSignedOut } from '@/lib/auth';
import { Sidebar, SkipLink } from '@/app/layouts/shell-parts';


function AdminNavList({ onNavigate }: { onNavigate?: () => void }) {
  const { t } = useTranslation('admin');
  return (
    <Stack as="ul" gap="0.5" listStyleType="none" m="0" p="0">
      {adminNavItems.map((item) => (
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
            css={{ '&[aria-current=page]': { bg: 'purple.subtle', color: 'purple.fg', fontWeight: 'semibold' } }}
          >
            <NavLink to={item.href} end={item.end ?? false} onClick={onNavigate}>
              <item.icon aria-hidden />
              {t(`nav.${item.key}`)}
            </NavLink>
          </Link>
        </Box>
      ))}
    </Stack>
  );
}

/** The console's name; `stacked` puts the badge under it (the side bar), else beside it. */
function ConsoleName({ stacked = false }: { stacked?: boolean }) {
  const { t } = useTranslation('admin');
  return (
    <Flex direction={stacked ? 'column' : 'row'} align={stacked ? 'start' : 'center'} gap={stacked ? '1' : '2'} minW="0">
      <Text fontWeight="semibold" truncate maxW="full">
        {t('console')}
      </Text>
      <Badge colorPalette="purple" size="sm" display={stacked ? 'inline-flex' : { base: 'none', sm: 'inline-flex' }}>
        {t('badge')}
      </Badge>
    </Flex>
  );
}

function AdminSignOutButton() {
  const { t } = useTranslation();
  const signOut = useAdminSignOut();
  const navigate = useNavigate();
  return (
    <Button
      size="sm"
      variant="ghost"
      loading={signOut.isPending}
      aria-label={t('actions.signOut')}
      onClick={() =>
        signOut.mutate(undefined, {
          onSettled: () => void navigate(paths.adminSignin.getHref(), { replace: true }),
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

export function AdminLayout() {
  const { t } = useTranslation('admin');
  const me = useAdminMe();
  const location = useLocation();
  const [menuOpen, setMenuOpen] = useState(false);
  const section = location.pathname.split('/')[2] ?? '';

  useEffect(() => {
    const item = adminNavItems.find((entry) => entry.href === (section ? `/admin/${section}` : '/admin'));
    document.title = `${item ? t(`nav.${item.key}`) : t('console')} · ${t('common:appName')}`;
  }, [section, t]);

  if (me.isPending) return <FullPageLoading />;
  if (me.isError) {
    if (isSignedOut(me.error)) {
      return <Navigate to={paths.adminSignin.getHref(location.pathname + location.search)} replace />;
    }
    return (
      <Center minH="60dvh" p="6">
        <Stack maxW="lg" w="full">
          <ErrorAlert error={me.error} onRetry={() => void me.refetch()} />
        </Stack>
      </Center>
    );
  }

  return (
    <Flex minH="100dvh" bg="bg.subtle">
      <SkipLink>{t('common:skipToContent')}</SkipLink>
      <Sidebar label={t('nav.label')}>
        <Box px="3" py="2">
          <Text fontSize="xs" color="fg.muted">
            {t('common:appName')}
          </Text>
          <ConsoleName stacked />
        </Box>
        <AdminNavList />
      </Sidebar>

      <Drawer.Root open={menuOpen} onOpenChange={(details) => setMenuOpen(details.open)} placement="start">
        <Portal>
          <Drawer.Backdrop />
          <Drawer.Positioner>
            <Drawer.Content maxW="18rem">
              <Drawer.Header>
                <Drawer.Title>
                  <ConsoleName stacked />
                </Drawer.Title>
              </Drawer.Header>
              <Drawer.Body as="nav" aria-label={t('nav.label')}>
                <AdminNavList onNavigate={() => setMenuOpen(false)} />
              </Drawer.Body>
              <Drawer.CloseTrigger asChild>
                <CloseButton size="sm" aria-label={t('common:actions.close')} />
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
            <ConsoleName />
          </Box>
          <Box flex="1" display={{ base: 'none', md: 'block' }} />
          <Text textStyle="sm" color="fg.muted" truncate display={{ base: 'none', sm: 'block' }} data-testid="admin-email">
            <bdi>{me.data.email}</bdi>
          </Text>
          <LanguageSwitch />
          <AdminSignOutButton />
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
