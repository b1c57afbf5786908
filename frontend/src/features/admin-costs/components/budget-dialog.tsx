// Set a shop's monthly model budget: the amount in USD and whether AI replies pause at 100 %.
import { Button, Checkbox, CloseButton, Dialog, Field, Input, Portal, Stack, Text } from '@chakra-ui/react';
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { type BudgetShop, useSetBudget } from '@/features/admin-costs/api/costs';
import { parseBudget } from '@/features/admin-costs/cost-rules';
import { errorMessage } from '@/lib/api-client';

export function BudgetDialog({ shop, onClose }: { shop: BudgetShop | null; onClose: () => void }) {
  const { t } = useTranslation('admin');
  const save = useSetBudget();
  const [amount, setAmount] = useState('');
  const [pause, setPause] = useState(false);
  const [touched, setTouched] = useState(false);

  useEffect(() => {
    if (shop) {
      setAmount(shop.budget ? String(Number(shop.budget.monthly_usd)) : '');
      setPause(shop.budget?.pause_at_limit ?? false);
      setTouched(false);
      save.reset();
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [shop]);

  const parsed = parseBudget(amount);
  const amountError = touched && !parsed ? t('budget.amountInvalid') : null;
  const name = shop?.ig_handle ? `@${shop.ig_handle}` : (shop?.display_name ?? '');

  return (
    <Dialog.Root open={shop !== null} onOpenChange={(details) => !details.open && onClose()}>
      <Portal>
        <Dialog.Backdrop />
        <Dialog.Positioner>
          <Dialog.Content asChild>
            <form
              noValidate
              onSubmit={(event) => {
                event.preventDefault();
                setTouched(true);
                if (!shop || !parsed) return;
                save.mutate({ id: shop.id, monthlyUsd: parsed, pauseAtLimit: pause }, { onSuccess: onClose });
              }}
            >
              <Dialog.Header>
                <Dialog.Title>{t('budget.title', { name })}</Dialog.Title>
              </Dialog.Header>
              <Dialog.Body>
                <Stack gap="4">
                  <Field.Root invalid={Boolean(amountError)} required>
                    <Field.Label>{t('budget.amount')}</Field.Label>
                    <Input value={amount} onChange={(event) => setAmount(event.target.value)} inputMode="decimal" dir="ltr" placeholder="50.00" />
                    {amountError ? <Field.ErrorText>{amountError}</Field.ErrorText> : <Field.HelperText>{t('budget.amountHelp')}</Field.HelperText>}
                  </Field.Root>
                  <Checkbox.Root checked={pause} onCheckedChange={(details) => setPause(details.checked === true)}>
                    <Checkbox.HiddenInput />
                    <Checkbox.Control />
                    <Checkbox.Label>{t('budget.pause')}</Checkbox.Label>
                  </Checkbox.Root>
                  {save.isError && (
                    <Text color="fg.error" role="alert">
                      {errorMessage(save.error)}
                    </Text>
                  )}
                </Stack>
              </Dialog.Body>
              <Dialog.Footer>
                <Dialog.ActionTrigger asChild>
                  <Button variant="outline" type="button">
                    {t('common:actions.cancel')}
                  </Button>
                </Dialog.ActionTrigger>
                <Button type="submit" colorPalette="purple" loading={save.isPending}>
                  {t('common:actions.save')}
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
