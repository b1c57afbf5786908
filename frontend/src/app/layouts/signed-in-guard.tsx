// Signed-out visitors go to the sign-in page (with a return path); everything under this
// route can rely on `useMe()` having data.
import { Center, Stack } from '@chakra-ui/react';
import { Navigate, Outlet, useLocation } from 'react-router';
import { FullPageLoading } from '@/app/layouts/full-page-loading';
import { ErrorAlert } from '@/components/error-alert';
import { paths } from '@/config/paths';
import { isSignedOut, useMe } from '@/lib/auth';

export function SignedInGuard() {
  const me = useMe();
  const location = useLocation();

  if (me.isPending) return <FullPageLoading />;
  if (me.isError) {
    if (isSignedOut(me.error)) {
      return <Navigate to={paths.signin.getHref(location.pathname + location.search)} replace />;
    }
    return (
      <Center minH="60dvh" p="6">
        <Stack maxW="lg" w="full">
          <ErrorAlert error={me.error} onRetry={() => void me.refetch()} />
        </Stack>
      </Center>
    );
  }
  return <Outlet />;
}
