// The shop's own model: an OpenAI-compatible key, base URL and model name. The key is sealed
// on the server; only whether there is one and its last characters come back.
import { Alert, Button, Field, Flex, Input, Stack, Text } from '@chakra-ui/react';
import { useEffect, useState } from 'react';
import { useForm } from 'react-hook-form';
import { useTranslation } from 'react-i18next';
import { ConfirmDialog } from '@/components/confirm-dialog';
import { ErrorAlert } from '@/components/error-alert';
import { LoadingSkeleton } from '@/components/loading-skeleton';
import { toaster } from '@/components/toaster';
import {
  useModelSettings,
  useSaveModelSettings,
  useTestModel,
} from '@/features/settings/api/settings';
import { SettingsSection } from '@/features/settings/components/settings-section';
import { modelChange, type ModelFormValues as Values } from '@/features/settings/lib/model-change';
import { errorMessage, isApiError } from '@/lib/api-client';

export function ModelSettings() {
  const { t } = useTranslation('settings');
  const settings = useModelSettings();
  const save = useSaveModelSettings();
  const test = useTestModel();
  const [removeOpen, setRemoveOpen] = useState(false);
  const form = useForm<Values>({ defaultValues: { api_key: '', base_url: '', model: '' } });
  const saved = settings.data;

  useEffect(() => {
    if (saved) form.reset({ api_key: '', base_url: saved.base_url ?? '', model: saved.model ?? '' });
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [saved?.updated_at, saved?.has_api_key]);

  const problem = (field: string) => (isApiError(save.error) ? save.error.problemFor(field) : undefined);
  const anyFieldProblem = ['api_key', 'base_url', 'model'].some((field) => problem(field));
  const hasOwn = Boolean(saved && (saved.has_api_key || saved.base_url || saved.model));

  return (
    <SettingsSection id="model" title={t('model.title')} description={t('model.description')}>
      {settings.isPending ? (
        <LoadingSkeleton rows={2} />
      ) : settings.isError ? (
        <ErrorAlert error={settings.error} onRetry={() => void settings.refetch()} />
      ) : (
        <form
          noValidate
          onSubmit={form.handleSubmit((values) => {
            const change = modelChange(values, settings.data);
            if (Object.keys(change).length === 0) {
              toaster.create({ type: 'info', description: t('model.nothingChanged') });
              return;
            }
            save.mutate(change, {
              onSuccess: () => toaster.create({ type: 'success', description: t('model.saved') }),
            });
          })}
        >
          <Stack gap="4" maxW="xl">
            <Text textStyle="sm" data-testid="model-state">
              {settings.data.has_api_key
                ? t('model.keySaved', { hint: settings.data.api_key_hint ?? '' })
                : t('model.usingPlatform')}
            </Text>
            <Field.Root invalid={Boolean(problem('api_key'))}>
              <Field.Label>{t('model.apiKey')}</Field.Label>
              <Input
                {...form.register('api_key')}
                type="password"
                dir="ltr"
                autoComplete="off"
                placeholder={settings.data.has_api_key ? t('model.apiKeyKeep') : 'sk-…'}
              />
              {problem('api_key') ? (
                <Field.ErrorText>{problem('api_key')}</Field.ErrorText>
              ) : (
                <Field.HelperText>{t('model.apiKeyHelp')}</Field.HelperText>
              )}
            </Field.Root>
            <Field.Root invalid={Boolean(problem('base_url'))}>
              <Field.Label>{t('model.baseUrl')}</Field.Label>
              <Input {...form.register('base_url')} type="url" dir="ltr" placeholder="https://api.openai.com/v1" autoComplete="off" />
              {problem('base_url') ? (
                <Field.ErrorText>{problem('base_url')}</Field.ErrorText>
              ) : (
                <Field.HelperText>{t('model.baseUrlHelp')}</Field.HelperText>
              )}
            </Field.Root>
            <Field.Root invalid={Boolean(problem('model'))}>
              <Field.Label>{t('model.model')}</Field.Label>
              <Input {...form.register('model')} dir="ltr" placeholder="gpt-4o-mini" autoComplete="off" />
              {problem('model') && <Field.ErrorText>{problem('model')}</Field.ErrorText>}
            </Field.Root>
            {save.isError && !anyFieldProblem && <ErrorAlert error={save.error} />}

            {test.data && (
              <Alert.Root status={test.data.ok ? 'success' : 'error'} data-testid="model-test-result">
                <Alert.Indicator />
                <Alert.Content>
                  <Alert.Title>{test.data.ok ? t('model.testOk') : t('model.testFailed')}</Alert.Title>
                  <Alert.Description>
                    {test.data.ok
                      ? t('model.testDetail', {
                          provider: test.data.provider ?? '',
                          model: test.data.model ?? '',
                          ms: test.data.latency_ms ?? 0,
                          uses: t(`model.uses.${test.data.uses ?? 'platform'}`),
                        })
                      : test.data.error}
                  </Alert.Description>
                </Alert.Content>
              </Alert.Root>
            )}
            {test.isError && <ErrorAlert error={test.error} />}

            <Flex gap="2" wrap="wrap">
              <Button type="submit" loading={save.isPending}>
                {t('model.save')}
              </Button>
              <Button
                variant="outline"
                loading={test.isPending}
                onClick={() => test.mutate(modelChange(form.getValues(), settings.data))}
              >
                {t('model.test')}
              </Button>
              {hasOwn && (
                <Button variant="ghost" colorPalette="red" onClick={() => setRemoveOpen(true)}>
                  {t('model.remove')}
                </Button>
              )}
            </Flex>
          </Stack>
        </form>
      )}
      <ConfirmDialog
        open={removeOpen}
        onOpenChange={setRemoveOpen}
        title={t('model.removeTitle')}
        body={t('model.removeBody')}
        confirmLabel={t('model.remove')}
        pending={save.isPending}
        error={save.isError && removeOpen ? errorMessage(save.error) : null}
        onConfirm={() =>
          save.mutate(
            { api_key: null, base_url: null, model: null },
            {
              onSuccess: () => {
                setRemoveOpen(false);
                test.reset();
                toaster.create({ type: 'success', description: t('model.removed') });
              },
            },
          )
        }
      />
    </SettingsSection>
  );
}
