// Where new orders are sent (a URL the shop's delivery company or own system receives, signed
// with a secret), and what happened to recent sends.
import { Badge, Button, Field, Input, Stack, Switch, Table, Text } from '@chakra-ui/react';
import { zodResolver } from '@hookform/resolvers/zod';
import { useEffect } from 'react';
import { Controller, useForm } from 'react-hook-form';
import { useTranslation } from 'react-i18next';
import { z } from 'zod';
import { DateTime } from '@/components/date-time';
import { ErrorAlert } from '@/components/error-alert';
import { LoadingSkeleton } from '@/components/loading-skeleton';
import { toaster } from '@/components/toaster';
import { useDeliveryHook, useDeliveryLog, useSaveDeliveryHook } from '@/features/settings/api/settings';
import { SettingsSection } from '@/features/settings/components/settings-section';
import { isApiError } from '@/lib/api-client';

function DeliveryLog() {
  const { t } = useTranslation('settings');
  const log = useDeliveryLog();
  if (log.isPending) return <LoadingSkeleton rows={2} />;
  if (log.isError) return <ErrorAlert error={log.error} onRetry={() => void log.refetch()} />;
  if (log.data.length === 0) {
    return (
      <Text textStyle="sm" color="fg.muted" data-testid="delivery-log-empty">
        {t('hook.log.empty')}
      </Text>
    );
  }
  return (
    <Table.ScrollArea borderWidth="1px" rounded="md">
      <Table.Root size="sm">
        <Table.Caption captionSide="top" textAlign="start" mb="2">
          {t('hook.log.title')}
        </Table.Caption>
        <Table.Header>
          <Table.Row>
            <Table.ColumnHeader>{t('hook.log.when')}</Table.ColumnHeader>
            <Table.ColumnHeader>{t('hook.log.event')}</Table.ColumnHeader>
            <Table.ColumnHeader>{t('hook.log.status')}</Table.ColumnHeader>
            <Table.ColumnHeader>{t('hook.log.attempts')}</Table.ColumnHeader>
            <Table.ColumnHeader>{t('hook.log.result')}</Table.ColumnHeader>
          </Table.Row>
        </Table.Header>
        <Table.Body>
          {log.data.map((entry) => (
            <Table.Row key={entry.id}>
              <Table.Cell>
                <DateTime value={entry.created_at} />
              </Table.Cell>
              <Table.Cell>{entry.event}</Table.Cell>
              <Table.Cell>
                <Badge colorPalette={entry.status === 'delivered' ? 'green' : entry.status === 'given_up' ? 'red' : 'yellow'}>
                  {t(`hook.log.state.${entry.status}`, { defaultValue: entry.status })}
                </Badge>
              </Table.Cell>
              <Table.Cell>{entry.attempts}</Table.Cell>
              <Table.Cell>
                {entry.delivered_at ? (
                  <DateTime value={entry.delivered_at} />
                ) : (
                  <Text as="span" color="fg.error">
                    {[entry.last_status_code, entry.last_error].filter(Boolean).join(' — ') || '—'}
                  </Text>
                )}
              </Table.Cell>
            </Table.Row>
          ))}
        </Table.Body>
      </Table.Root>
    </Table.ScrollArea>
  );
}

export function DeliveryHook() {
  const { t } = useTranslation('settings');
  const hook = useDeliveryHook();
  const save = useSaveDeliveryHook();
  const schema = z.object({
    url: z.string().trim().url(t('hook.urlInvalid')),
    secret: z.string().min(1, t('hook.secretRequired')),
    enabled: z.boolean(),
  });
  const form = useForm<z.infer<typeof schema>>({
    resolver: zodResolver(schema),
    defaultValues: { url: '', secret: '', enabled: true },
  });
  const saved = hook.data?.hook;

  useEffect(() => {
    if (saved) form.reset({ url: saved.url, secret: '', enabled: saved.enabled });
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [saved?.url, saved?.enabled, saved?.updated_at]);

  const serverError = save.error;
  const problem = (field: string) => (isApiError(serverError) ? serverError.problemFor(field) : undefined);
  const urlError = form.formState.errors.url?.message ?? problem('url');
  const secretError = form.formState.errors.secret?.message ?? problem('secret');
  const generalError = serverError && !problem('url') && !problem('secret') ? serverError : null;

  return (
    <SettingsSection id="delivery-hook" title={t('hook.title')} description={t('hook.description')}>
      {hook.isPending ? (
        <LoadingSkeleton rows={2} />
      ) : hook.isError ? (
        <ErrorAlert error={hook.error} onRetry={() => void hook.refetch()} />
      ) : (
        <Stack gap="6">
          <form
            noValidate
            onSubmit={form.handleSubmit((values) =>
              save.mutate(values, {
                onSuccess: () => {
                  form.setValue('secret', '');
                  toaster.create({ type: 'success', description: t('hook.saved') });
                },
              }),
            )}
          >
            <Stack gap="4" maxW="xl">
              {!saved && (
                <Text textStyle="sm" color="fg.muted" data-testid="hook-not-set">
                  {t('hook.notSet')}
                </Text>
              )}
              <Field.Root invalid={Boolean(urlError)} required>
                <Field.Label>{t('hook.url')}</Field.Label>
                <Input {...form.register('url')} type="url" dir="ltr" placeholder="https://" autoComplete="off" />
                {urlError ? <Field.ErrorText>{urlError}</Field.ErrorText> : <Field.HelperText>{t('hook.urlHelp')}</Field.HelperText>}
              </Field.Root>
              <Field.Root invalid={Boolean(secretError)} required>
                <Field.Label>{t('hook.secret')}</Field.Label>
                <Input {...form.register('secret')} type="password" dir="ltr" autoComplete="new-password" />
                {secretError ? (
                  <Field.ErrorText>{secretError}</Field.ErrorText>
                ) : (
                  <Field.HelperText>{saved ? t('hook.secretHelpSaved') : t('hook.secretHelp')}</Field.HelperText>
                )}
              </Field.Root>
              <Controller
                control={form.control}
                name="enabled"
                render={({ field }) => (
                  <Switch.Root checked={field.value} onCheckedChange={(details) => field.onChange(details.checked)}>
                    <Switch.HiddenInput onBlur={field.onBlur} />
                    <Switch.Control />
                    <Switch.Label>{t('hook.enabled')}</Switch.Label>
                  </Switch.Root>
                )}
              />
              {generalError && <ErrorAlert error={generalError} />}
              <Button type="submit" alignSelf="flex-start" loading={save.isPending}>
                {t('hook.save')}
              </Button>
            </Stack>
          </form>
          <DeliveryLog />
        </Stack>
      )}
    </SettingsSection>
  );
}
