import { Box, Button, Center, Heading, Stack, Text } from '@chakra-ui/react';
import { Suspense } from 'react';
import { useTranslation } from 'react-i18next';
import { isRouteErrorResponse, Outlet, ScrollRestoration, useRouteError } from 'react-router';
import { FullPageLoading } from '@/app/layouts/full-page-loading';
import { errorMessage } from '@/lib/api-client';

export function RootLayout() {
  return (
    <Suspense fallback={<FullPageLoading />}>
      <Outlet />
      <ScrollRestoration />
    </Suspense>
  );
}

/** A route that failed to load or render: the reason, and a way back. */
export function RouteError() {
  const error = useRouteError();
  const { t } = useTranslation();
  const message = isRouteErrorResponse(error) ? `${error.status} ${error.statusText}` : errorMessage(error);
  // A new deploy replaces the hashed chunks: an old tab then fails to load a route's module.
  const staleBuild = error instanceof TypeError && /dynamically imported module|Importing a module/i.test(error.message);
  return (
    <Center minH="60dvh" p="6">
      <Stack gap="4" maxW="md" textAlign="center" role="alert">
        <Heading size="lg">{staleBuild ? t('errors.newVersionTitle') : t('errors.pageTitle')}</Heading>
        <Text color="fg.muted">{staleBuild ? t('errors.newVersion') : message}</Text>
        <Box>
          <Button onClick={() => window.location.reload()}>{t('actions.reload')}</Button>
        </Box>
      </Stack>
    </Center>
  );
}
