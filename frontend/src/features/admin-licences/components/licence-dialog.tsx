// Add or extend a licence: the handle (fixed when extending) and the last day. The server
// signs and publishes; a read-only server's refusal shows its message and CLI commands.
import { Button, CloseButton, Dialog, Field, Input, Portal, Stack, Text } from '@chakra-ui/react';
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { cliOf, useSetLicence } from '@/features/admin-licences/api/licences';
import { CliCommands } from '@/features/admin-licences/components/cli-commands';
import { isValidExpiry } from '@/features/admin-licences/licence-rules';
import { errorMessage } from '@/lib/api-client';
import { ammanDay } from '@/lib/format';

const HANDLE = /^@?[A-Za-z0-9._]{1,30}$/;

export type LicenceDraft = { handle: string; expiresOn: string; fixedHandle: boolean };

export function LicenceDialog({ draft, onClose }: { draft: LicenceDraft | null; onClose: () => void }) {
  const { t } = useTranslation('admin');
  const save = useSetLicence();
  const [handle, setHandle] = useState('');
  const [expiresOn, setExpiresOn] = useState('');
  const [touched, setTouched] = useState(false);
  const today = ammanDay();

  useEffect(() => {
    if (draft) {
      setHandle(draft.handle);
      setExpiresOn(draft.expiresOn);
      setTouched(false);
      save.reset();
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [draft]);

  const handleError = touched && !HANDLE.test(handle.trim()) ? t('licences.handleInvalid') : null;
  const dateError = touched && !isValidExpiry(expiresOn, today) ? t('licences.dateInvalid') : null;
  const cli = cliOf(save.error);

  return (
    <Dialog.Root open={draft !== null} onOpenChange={(details) => !details.open && onClose()}>
      <Portal>
        <Dialog.Backdrop />
        <Dialog.Positioner>
          <Dialog.Content asChild>
            <form
              noValidate
              onSubmit={(event) => {
                event.preventDefault();
                setTouched(true);
                if (!HANDLE.test(handle.trim()) || !isValidExpiry(expiresOn, today)) return;
                save.mutate({ handle: handle.trim().replace(/^@/, '').toLowerCase(), expiresOn }, { onSuccess: onClose });
              }}
            >
              <Dialog.Header>
                <Dialog.Title>{draft?.fixedHandle ? t('licences.extendTitle', { handle: draft.handle }) : t('licences.addTitle')}</Dialog.Title>
              </Dialog.Header>
              <Dialog.Body>
                <Stack gap="4">
                  <Field.Root invalid={Boolean(handleError)} required readOnly={draft?.fixedHandle}>
                    <Field.Label>{t('licences.handle')}</Field.Label>
                    <Input
                      value={handle}
                      onChange={(event) => setHandle(event.target.value)}
                      dir="ltr"
                      autoCapitalize="none"
                      spellCheck={false}
                      placeholder="my.shop"
                      readOnly={draft?.fixedHandle}
                    />
                    <Field.ErrorText>{handleError}</Field.ErrorText>
                  </Field.Root>
                  <Field.Root invalid={Boolean(dateError)} required>
                    <Field.Label>{t('licences.lastDay')}</Field.Label>
                    <Input type="date" value={expiresOn} min={today} onChange={(event) => setExpiresOn(event.target.value)} />
                    {dateError ? (
                      <Field.ErrorText>{dateError}</Field.ErrorText>
                    ) : (
                      <Field.HelperText>{t('licences.lastDayHelp')}</Field.HelperText>
                    )}
                  </Field.Root>
                  {save.isError && (
                    <Text color="fg.error" role="alert" data-testid="licence-error">
                      {errorMessage(save.error)}
                    </Text>
                  )}
                  <CliCommands commands={cli} />
                </Stack>
              </Dialog.Body>
              <Dialog.Footer>
                <Dialog.ActionTrigger asChild>
                  <Button variant="outline" type="button">
                    {t('common:actions.cancel')}
                  </Button>
                </Dialog.ActionTrigger>
                <Button type="submit" colorPalette="purple" loading={save.isPending}>
                  {t('licences.signAndPublish')}
                </Button>
              </Dialog.Footer>
              <Dialog.CloseTrigger asChild>
                <CloseButton size="sm" aria-label={t('common:actions.close')} />
              </Dialog.CloseTrigger>
            </form>
          </Dialog.Content>
        </Dialog.Positioner>
      </Portal>
    </Dialog.Root>
  );
}
