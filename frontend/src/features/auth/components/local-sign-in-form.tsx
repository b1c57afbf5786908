import { Badge, Button, Field, Flex, Heading, Input, Stack, Text } from '@chakra-ui/react';
import { zodResolver } from '@hookform/resolvers/zod';
import { useForm } from 'react-hook-form';
import { useTranslation } from 'react-i18next';
import { z } from 'zod';
import { useLocalSignIn } from '@/features/auth/api/sign-in';
import { errorMessage } from '@/lib/api-client';

const HANDLE = /^@?[A-Za-z0-9._]{1,30}$/;

/** Sign in as any shop handle, without Instagram — only a local server offers it. */
export function LocalSignInForm({ onSignedIn }: { onSignedIn: () => void }) {
  const { t } = useTranslation('auth');
  const signIn = useLocalSignIn();
  const schema = z.object({
    handle: z.string().trim().regex(HANDLE, t('local.handleInvalid')),
  });
  const form = useForm<z.infer<typeof schema>>({
    resolver: zodResolver(schema),
    defaultValues: { handle: '' },
  });
  const serverError = signIn.isError ? errorMessage(signIn.error) : null;
  const fieldError = form.formState.errors.handle?.message ?? serverError;

  return (
    <Stack
      asChild
      gap="4"
      borderWidth="1px"
      borderStyle="dashed"
      rounded="lg"
      p="5"
    >
      <form
        aria-labelledby="local-sign-in-title"
        noValidate
        onSubmit={form.handleSubmit((values) =>
          signIn.mutate(values.handle.replace(/^@/, ''), { onSuccess: onSignedIn }),
        )}
      >
      <Flex align="center" gap="2" wrap="wrap">
        <Heading as="h2" size="sm" id="local-sign-in-title">
          {t('local.title')}
        </Heading>
        <Badge colorPalette="orange">{t('local.badge')}</Badge>
      </Flex>
      <Text textStyle="sm" color="fg.muted">
        {t('local.explain')}
      </Text>
      <Field.Root invalid={Boolean(fieldError)} required>
        <Field.Label>{t('local.handle')}</Field.Label>
        <Input
          {...form.register('handle')}
          dir="ltr"
          autoComplete="username"
          autoCapitalize="none"
          spellCheck={false}
          placeholder="my.shop"
        />
        {fieldError ? (
          <Field.ErrorText>{fieldError}</Field.ErrorText>
        ) : (
          <Field.HelperText>{t('local.handleHelp')}</Field.HelperText>
        )}
      </Field.Root>
      <Button type="submit" variant="outline" loading={signIn.isPending}>
        {t('local.submit')}
      </Button>
      </form>
    </Stack>
  );
}
