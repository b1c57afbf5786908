// Every shop's monthly budget: spent / limit with a bar (orange from 80 %, red at 100 %),
// whether AI pauses at the limit, and set / remove.
import { Badge, Box, Button, Flex, Progress, Stack, Text } from '@chakra-ui/react';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { ConfirmDialog } from '@/components/confirm-dialog';
import { ErrorAlert } from '@/components/error-alert';
import { LoadingSkeleton } from '@/components/loading-skeleton';
import { type BudgetShop, useBudgetShops, useRemoveBudget } from '@/features/admin-costs/api/costs';
import { BudgetDialog } from '@/features/admin-costs/components/budget-dialog';
import { budgetTone } from '@/features/admin-costs/cost-rules';
import { formatNumber, formatUsd } from '@/lib/format';
import { useLanguage } from '@/lib/i18n';

const TONE = { ok: 'green', warning: 'orange', reached: 'red' } as const;

export function BudgetList() {
  const { t } = useTranslation('admin');
  const language = useLanguage();
  const shops = useBudgetShops();
  const remove = useRemoveBudget();
  const [editing, setEditing] = useState<BudgetShop | null>(null);
  const [removing, setRemoving] = useState<BudgetShop | null>(null);
  if (shops.isPending) return <LoadingSkeleton rows={2} />;
  if (shops.isError) return <ErrorAlert error={shops.error} onRetry={() => void shops.refetch()} />;
  if (shops.data.tenants.length === 0) {
    return (
      <Text p="4" borderWidth="1px" rounded="lg" bg="bg" color="fg.muted">
        {t('budget.noShops')}
      </Text>
    );
  }
  const nameOf = (s: BudgetShop) => (s.ig_handle ? `@${s.ig_handle}` : (s.display_name ?? s.id));
  return (
    <>
      <Stack as="ul" listStyleType="none" m="0" p="0" gap="2" data-testid="budget-list">
        {shops.data.tenants.map((shop) => {
          const b = shop.budget;
          const tone = b ? budgetTone(b.percent) : null;
          return (
            <Box as="li" key={shop.id} borderWidth="1px" rounded="lg" bg="bg" p="3" data-handle={shop.ig_handle ?? ''}>
              <Flex gap="3" align="center" wrap="wrap">
                <Stack gap="1" flex="1" minW="12rem">
                  <Text fontWeight="medium">
                    <bdi dir="ltr">{nameOf(shop)}</bdi>
                  </Text>
                  {b && tone ? (
                    <>
                      <Flex gap="2" align="center" wrap="wrap" textStyle="sm">
                        <Text fontVariantNumeric="tabular-nums">
                          {t('tenants.budgetUse', {
                            spent: formatUsd(b.spent_usd, language),
                            limit: formatUsd(b.monthly_usd, language),
                            percent: formatNumber(b.percent, language),
                          })}
                        </Text>
                        <Badge colorPalette={TONE[tone]}>{t(`budget.state.${tone}`)}</Badge>
                        {b.pause_at_limit && <Badge variant="outline">{t('budget.pauses')}</Badge>}
                      </Flex>
                      <Progress.Root
                        value={Math.min(100, b.percent)}
                        size="xs"
                        colorPalette={TONE[tone]}
                        aria-label={t('budget.used', { name: nameOf(shop) })}
                      >
                        <Progress.Track>
                          <Progress.Range />
                        </Progress.Track>
                      </Progress.Root>
                    </>
                  ) : (
                    <Text textStyle="sm" color="fg.muted">
                      {t('budget.none', { spent: formatUsd(shop.cost_month_usd, language) })}
                    </Text>
                  )}
                </Stack>
                <Flex gap="2">
                  <Button size="xs" variant="outline" onClick={() => setEditing(shop)} aria-label={t(b ? 'budget.changeLabel' : 'budget.setLabel', { name: nameOf(shop) })}>
                    {b ? t('budget.change') : t('budget.set')}
                  </Button>
                  {b && (
                    <Button
                      size="xs"
                      variant="outline"
                      colorPalette="red"
                      onClick={() => setRemoving(shop)}
                      aria-label={t('budget.removeLabel', { name: nameOf(shop) })}
                    >
                      {t('budget.remove')}
                    </Button>
                  )}
                </Flex>
              </Flex>
            </Box>
          );
        })}
      </Stack>
      <BudgetDialog shop={editing} onClose={() => setEditing(null)} />
      <ConfirmDialog
        open={removing !== null}
        onOpenChange={(open) => !open && setRemoving(null)}
        title={t('budget.removeTitle', { name: removing ? nameOf(removing) : '' })}
        body={t('budget.removeBody')}
        confirmLabel={t('budget.remove')}
        pending={remove.isPending}
        onConfirm={() => removing && remove.mutate(removing.id, { onSuccess: () => setRemoving(null) })}
      />
    </>
  );
}
