// The admin console's sign-in (e-mail + password). Wrong password, lock-out (with its time)
// and rate limit show the server's own message; a signed-in admin goes on to the console.
import { Alert, Badge, Box, Button, Center, Code, Field, Flex, Heading, Input, Stack, Text } from '@chakra-ui/react';
import { zodResolver } from '@hookform/resolvers/zod';
import { useEffect } from 'react';
import { useForm } from 'react-hook-form';
import { useTranslation } from 'react-i18next';
import { useNavigate, useSearchParams } from 'react-router';
import { z } from 'zod';
import { LanguageSwitch } from '@/components/language-switch';
import { paths, safeAdminReturnPath } from '@/config/paths';
import { useAdminMe, useAdminSignIn } from '@/lib/admin-auth';
import { errorMessage, isApiError } from '@/lib/api-client';

export function AdminSignInPage() {
  const { t } = useTranslation('admin');
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const me = useAdminMe();
  const signIn = useAdminSignIn();
  const next = safeAdminReturnPath(params.get('next')) ?? paths.adminTenants.getHref();

  const schema = z.object({
    email: z.string().trim().email(t('signin.emailInvalid')),
    password: z.string().min(1, t('signin.passwordRequired')),
  });
  const form = useForm<z.infer<typeof schema>>({
    resolver: zodResolver(schema),
    defaultValues: { email: '', password: '' },
  });

  useEffect(() => {
    document.title = `${t('signin.title')} · ${t('common:appName')}`;
  }, [t]);

  useEffect(() => {
    if (me.isSuccess) void navigate(next, { replace: true });
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [me.isSuccess]);

  const refusal = signIn.isError ? signIn.error : null;
  const refusalTitle =
    isApiError(refusal) && (refusal.code === 'locked' || refusal.code === 'rate_limited')
      ? t(`signin.${refusal.code}`)
      : t('signin.refused');

  return (
    <Flex direction="column" minH="100dvh" bg="bg.subtle">
      <Flex justify="flex-end" p="3">
        <LanguageSwitch />
      </Flex>
      <Center flex="1" px="4" pb="12">
        <Box as="main" w="full" maxW="md" bg="bg" rounded="xl" shadow="sm" borderWidth="1px" p={{ base: '6', md: '8' }}>
          <Stack gap="6">
            <Stack gap="2" textAlign="center" align="center">
              <Badge colorPalette="purple">{t('badge')}</Badge>
              <Heading as="h1" size="2xl">
                {t('signin.title')}
              </Heading>
              <Text color="fg.muted">{t('signin.subtitle')}</Text>
            </Stack>
            {refusal && (
              <Alert.Root status="error" role="alert" data-testid="admin-signin-error">
                <Alert.Indicator />
                <Alert.Content>
                  <Alert.Title>{refusalTitle}</Alert.Title>
                  <Alert.Description>{errorMessage(refusal)}</Alert.Description>
                </Alert.Content>
              </Alert.Root>
            )}
            <Stack asChild gap="4">
              <form
                noValidate
                aria-label={t('signin.title')}
                onSubmit={form.handleSubmit((values) =>
                  signIn.mutate(values, { onSuccess: () => void navigate(next, { replace: true }) }),
                )}
              >
                <Field.Root invalid={Boolean(form.formState.errors.email)} required>
                  <Field.Label>{t('signin.email')}</Field.Label>
                  <Input
                    {...form.register('email')}
                    type="email"
                    dir="ltr"
                    autoComplete="username"
                    autoCapitalize="none"
                    spellCheck={false}
                  />
                  <Field.ErrorText>{form.formState.errors.email?.message}</Field.ErrorText>
                </Field.Root>
                <Field.Root invalid={Boolean(form.formState.errors.password)} required>
                  <Field.Label>{t('signin.password')}</Field.Label>
                  <Input {...form.register('password')} type="password" dir="ltr" autoComplete="current-password" />
                  <Field.ErrorText>{form.formState.errors.password?.message}</Field.ErrorText>
                </Field.Root>
                <Button type="submit" colorPalette="purple" loading={signIn.isPending}>
                  {t('signin.submit')}
                </Button>
              </form>
            </Stack>
            <Stack gap="1" textStyle="xs" color="fg.muted" textAlign="center" align="center">
              <Text>{t('signin.explain')}</Text>
              <Code dir="ltr" size="sm" whiteSpace="normal">
                handler admin create-user --email you@example.com
              </Code>
              <Text>{t('signin.merchantNote')}</Text>
            </Stack>
          </Stack>
        </Box>
      </Center>
    </Flex>
  );
}

export { AdminSignInPage as Component };
