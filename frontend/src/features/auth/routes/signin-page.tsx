// The sign-in page: Instagram sign-in, the OAuth error view (/signin?error=<code>, shown in our own
// words for each known code: never text from the address), and the
// local sign-in when the server offers it. Signed-in merchants never stay here.
import { Alert, Box, Button, Center, Flex, Heading, Separator, Stack, Text } from '@chakra-ui/react';
import { useEffect } from 'react';
import { useTranslation } from 'react-i18next';
import { LuInstagram } from 'react-icons/lu';
import { useNavigate, useSearchParams } from 'react-router';
import { LanguageSwitch } from '@/components/language-switch';
import { ErrorAlert } from '@/components/error-alert';
import { LoadingSkeleton } from '@/components/loading-skeleton';
import { INSTAGRAM_OAUTH_START } from '@/config/paths';
import { LocalSignInForm } from '@/features/auth/components/local-sign-in-form';
import { landingPath } from '@/features/auth/api/sign-in';
import { useAuthOptions, useMe } from '@/lib/auth';

export function SignInPage() {
  const { t } = useTranslation('auth');
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const me = useMe();
  const options = useAuthOptions();
  const next = params.get('next');
  // Only a code of ours is shown (never free text someone put in the link).
  const rawError = params.get('error');
  const oauthError = rawError && (/^[a-z_]{1,32}$/.test(rawError) ? rawError : 'unknown');

  const goOn = () => {
    void landingPath(next).then((path) => navigate(path, { replace: true }));
  };

  useEffect(() => {
    document.title = `${t('title')} · ${t('common:appName')}`;
  }, [t]);

  useEffect(() => {
    if (me.isSuccess) goOn();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [me.isSuccess]);

  return (
    <Flex direction="column" minH="100dvh" bg="bg.subtle">
      <Flex justify="flex-end" p="3">
        <LanguageSwitch />
      </Flex>
      <Center flex="1" px="4" pb="12">
        <Box as="main" w="full" maxW="md" bg="bg" rounded="xl" shadow="sm" borderWidth="1px" p={{ base: '6', md: '8' }}>
          <Stack gap="6">
            <Stack gap="2" textAlign="center">
              <Heading as="h1" size="2xl">
                {t('title')}
              </Heading>
              <Text color="fg.muted">{t('subtitle')}</Text>
            </Stack>

            {oauthError && (
              <Alert.Root status="error" role="alert" data-testid="oauth-error">
                <Alert.Indicator />
                <Alert.Content>
                  <Alert.Title>{t('oauthError.title')}</Alert.Title>
                  <Alert.Description>
                    {t(`oauthError.codes.${oauthError}`, {
                      defaultValue: t('oauthError.generic', { code: oauthError }),
                    })}
                  </Alert.Description>
                </Alert.Content>
              </Alert.Root>
            )}

            {options.isPending || me.isSuccess ? (
              <LoadingSkeleton rows={2} />
            ) : options.isError ? (
              <ErrorAlert error={options.error} onRetry={() => void options.refetch()} />
            ) : (
              <Stack gap="5">
                {options.data.instagram ? (
                  <Button asChild size="lg" colorPalette="pink">
                    <a href={INSTAGRAM_OAUTH_START}>
                      <LuInstagram aria-hidden />
                      {oauthError ? t('instagram.again') : t('instagram.continue')}
                    </a>
                  </Button>
                ) : (
                  <Text textStyle="sm" color="fg.muted" textAlign="center">
                    {t('instagram.unavailable')}
                  </Text>
                )}
                <Text textStyle="xs" color="fg.muted" textAlign="center">
                  {t('instagram.explain')}
                </Text>
                {options.data.local && (
                  <>
                    <Separator />
                    <LocalSignInForm onSignedIn={goOn} />
                  </>
                )}
              </Stack>
            )}
          </Stack>
        </Box>
      </Center>
      <Text as="footer" textAlign="center" textStyle="xs" color="fg.muted" pb="4">
        {t('footer')}
      </Text>
    </Flex>
  );
}

export { SignInPage as Component };
