import { Button, CloseButton, Dialog, Field, Input, Portal, Stack, Text } from '@chakra-ui/react';
import { useId, useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';

/**
 * Asks before something that cannot be undone. With `requireText`, the merchant must type it
 * (e.g. the shop's handle) before the confirm button works.
 */
export function ConfirmDialog({
  open,
  onOpenChange,
  title,
  body,
  confirmLabel,
  onConfirm,
  pending = false,
  destructive = true,
  requireText,
  requireTextLabel,
  error,
}: {
  open: boolean;
  onOpenChange: (open: boolean) => void;
  title: ReactNode;
  body?: ReactNode;
  confirmLabel: ReactNode;
  onConfirm: () => void;
  pending?: boolean;
  destructive?: boolean;
  requireText?: string;
  requireTextLabel?: ReactNode;
  error?: string | null;
}) {
  const { t } = useTranslation();
  const [typed, setTyped] = useState('');
  const errorId = useId();
  const matches = requireText === undefined || typed.trim() === requireText;

  return (
    <Dialog.Root
      open={open}
      onOpenChange={(details) => {
        if (!details.open) setTyped('');
        onOpenChange(details.open);
      }}
      role="alertdialog"
    >
      <Portal>
        <Dialog.Backdrop />
        <Dialog.Positioner>
          <Dialog.Content>
            <Dialog.Header>
              <Dialog.Title>{title}</Dialog.Title>
            </Dialog.Header>
            <Dialog.Body>
              <Stack gap="4">
                {body && <Text>{body}</Text>}
                {requireText !== undefined && (
                  <Field.Root invalid={Boolean(error)}>
                    <Field.Label>{requireTextLabel}</Field.Label>
                    <Input
                      value={typed}
                      onChange={(event) => setTyped(event.target.value)}
                      autoComplete="off"
                      dir="ltr"
                      aria-describedby={error ? errorId : undefined}
                    />
                    {error && <Field.ErrorText id={errorId}>{error}</Field.ErrorText>}
                  </Field.Root>
                )}
                {requireText === undefined && error && (
                  <Text color="fg.error" role="alert">
                    {error}
                  </Text>
                )}
              </Stack>
            </Dialog.Body>
            <Dialog.Footer>
              <Dialog.ActionTrigger asChild>
                <Button variant="outline">{t('actions.cancel')}</Button>
              </Dialog.ActionTrigger>
              <Button
                colorPalette={destructive ? 'red' : 'blue'}
                onClick={onConfirm}
                loading={pending}
                disabled={!matches}
              >
                {confirmLabel}
              </Button>
            </Dialog.Footer>
            <Dialog.CloseTrigger asChild>
              <CloseButton size="sm" aria-label={t('actions.close')} />
            </Dialog.CloseTrigger>
          </Dialog.Content>
        </Dialog.Positioner>
      </Portal>
    </Dialog.Root>
  );
}
