// The cost tracker: a date range (Asia/Amman days, default the last 30), the total, cost per
// shop per day as a chart and a table, totals per model, the price table in use, and each
// shop's monthly budget.
import { Box, Field, Flex, Heading, Input, Stack, Stat, Table, Text } from '@chakra-ui/react';
import { useTranslation } from 'react-i18next';
import { LuCoins } from 'react-icons/lu';
import { useSearchParams } from 'react-router';
import { EmptyState } from '@/components/empty-state';
import { ErrorAlert } from '@/components/error-alert';
import { LoadingSkeleton } from '@/components/loading-skeleton';
import { PageHeader } from '@/components/page-header';
import { useCosts } from '@/features/admin-costs/api/costs';
import { BudgetList } from '@/features/admin-costs/components/budget-list';
import { CostChart } from '@/features/admin-costs/components/cost-chart';
import { addDays, ammanDay, formatDay, formatNumber, formatUsd } from '@/lib/format';
import { useLanguage } from '@/lib/i18n';

const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** The table reads from today backwards; the costliest shop first within a day. */
function newestFirst<T extends { day: string; cost_usd: string }>(days: T[]): T[] {
  return [...days].sort((a, b) => b.day.localeCompare(a.day) || Number(b.cost_usd) - Number(a.cost_usd));
}

function Section({ id, title, children }: { id: string; title: string; children: React.ReactNode }) {
  return (
    <Box as="section" aria-labelledby={id}>
      <Heading as="h2" size="md" id={id} mb="3">
        {title}
      </Heading>
      {children}
    </Box>
  );
}

export function CostsPage() {
  const { t } = useTranslation('admin');
  const language = useLanguage();
  const [params, setParams] = useSearchParams();
  const today = ammanDay();
  const to = DAY.test(params.get('to') ?? '') ? params.get('to')! : today;
  const from = DAY.test(params.get('from') ?? '') ? params.get('from')! : addDays(to, -29);
  const costs = useCosts(from, to);
  const usd = (v: string | number) => formatUsd(v, language);
  const n = (v: number) => formatNumber(v, language);
  const setRange = (key: 'from' | 'to', value: string) => {
    const next = new URLSearchParams(params);
    if (value) next.set(key, value);
    else next.delete(key);
    setParams(next, { replace: true });
  };

  return (
    <Stack gap="6">
      <PageHeader title={t('costs.title')} description={t('costs.description')} />
      <Flex gap="3" wrap="wrap" align="end">
        <Field.Root w="auto">
          <Field.Label>{t('costs.from')}</Field.Label>
          <Input type="date" value={from} max={to} onChange={(e) => setRange('from', e.target.value)} bg="bg" />
        </Field.Root>
        <Field.Root w="auto">
          <Field.Label>{t('costs.to')}</Field.Label>
          <Input type="date" value={to} min={from} max={today} onChange={(e) => setRange('to', e.target.value)} bg="bg" />
        </Field.Root>
        {costs.data && (
          <Stat.Root borderWidth="1px" rounded="lg" bg="bg" px="4" py="2" ms={{ md: 'auto' }} flex="0 0 auto">
            <Stat.Label>{t('costs.total')}</Stat.Label>
            <Stat.ValueText data-testid="cost-total">{usd(costs.data.total_usd)}</Stat.ValueText>
          </Stat.Root>
        )}
      </Flex>

      {costs.isPending ? (
        <LoadingSkeleton />
      ) : costs.isError ? (
        <ErrorAlert error={costs.error} onRetry={() => void costs.refetch()} />
      ) : (
        <>
          <Section id="cost-days-title" title={t('costs.perShopDay')}>
            {costs.data.days.length === 0 ? (
              <Box borderWidth="1px" rounded="lg" bg="bg">
                <EmptyState icon={<LuCoins />} title={t('costs.emptyTitle')} description={t('costs.empty')} headingLevel="p" />
              </Box>
            ) : (
              <Stack gap="4">
                <CostChart days={costs.data.days} from={costs.data.from} to={costs.data.to} />
                <Table.ScrollArea borderWidth="1px" rounded="lg" bg="bg" maxH="96">
                  <Table.Root size="sm" stickyHeader data-testid="cost-days">
                    <Table.Caption captionSide="top" textAlign="start" px="3" color="fg.muted">
                      {t('costs.tableCaption', { from: formatDay(costs.data.from, language), to: formatDay(costs.data.to, language) })}
                    </Table.Caption>
                    <Table.Header>
                      <Table.Row>
                        <Table.ColumnHeader>{t('costs.day')}</Table.ColumnHeader>
                        <Table.ColumnHeader>{t('costs.shop')}</Table.ColumnHeader>
                        <Table.ColumnHeader textAlign="end">{t('costs.tokensIn')}</Table.ColumnHeader>
                        <Table.ColumnHeader textAlign="end">{t('costs.tokensOut')}</Table.ColumnHeader>
                        <Table.ColumnHeader textAlign="end">{t('costs.cost')}</Table.ColumnHeader>
                      </Table.Row>
                    </Table.Header>
                    <Table.Body>
                      {newestFirst(costs.data.days).map((d) => (
                        <Table.Row key={`${d.day}-${d.tenant_id}`} data-testid="cost-day" data-handle={d.ig_handle ?? ''} data-day={d.day}>
                          <Table.Cell whiteSpace="nowrap">{formatDay(d.day, language)}</Table.Cell>
                          <Table.Cell>
                            <bdi dir="ltr">{d.ig_handle ? `@${d.ig_handle}` : d.tenant_id}</bdi>
                          </Table.Cell>
                          <Table.Cell textAlign="end">{n(d.prompt_tokens)}</Table.Cell>
                          <Table.Cell textAlign="end">{n(d.completion_tokens)}</Table.Cell>
                          <Table.Cell textAlign="end" data-testid="cost-day-usd" data-usd={d.cost_usd} fontVariantNumeric="tabular-nums">
                            {usd(d.cost_usd)}
                          </Table.Cell>
                        </Table.Row>
                      ))}
                    </Table.Body>
                  </Table.Root>
                </Table.ScrollArea>
              </Stack>
            )}
          </Section>

          <Section id="cost-models-title" title={t('costs.perModel')}>
            {costs.data.per_model.length === 0 ? (
              <Text p="4" borderWidth="1px" rounded="lg" bg="bg" color="fg.muted">
                {t('costs.noModels')}
              </Text>
            ) : (
              <Table.ScrollArea borderWidth="1px" rounded="lg" bg="bg">
                <Table.Root size="sm" data-testid="cost-models">
                  <Table.Header>
                    <Table.Row>
                      <Table.ColumnHeader>{t('costs.model')}</Table.ColumnHeader>
                      <Table.ColumnHeader>{t('costs.billedTo')}</Table.ColumnHeader>
                      <Table.ColumnHeader textAlign="end">{t('costs.calls')}</Table.ColumnHeader>
                      <Table.ColumnHeader textAlign="end">{t('costs.tokensIn')}</Table.ColumnHeader>
                      <Table.ColumnHeader textAlign="end">{t('costs.cached')}</Table.ColumnHeader>
                      <Table.ColumnHeader textAlign="end">{t('costs.tokensOut')}</Table.ColumnHeader>
                      <Table.ColumnHeader textAlign="end">{t('costs.cost')}</Table.ColumnHeader>
                    </Table.Row>
                  </Table.Header>
                  <Table.Body>
                    {costs.data.per_model.map((m) => (
                      <Table.Row key={`${m.provider}-${m.model}-${m.billed_to}`}>
                        <Table.Cell>
                          <bdi dir="ltr">{m.model}</bdi>
                          <Text as="span" color="fg.muted" textStyle="xs" ms="2">
                            {m.provider}
                          </Text>
                        </Table.Cell>
                        <Table.Cell>{t(`billedTo.${m.billed_to}`, { defaultValue: m.billed_to })}</Table.Cell>
                        <Table.Cell textAlign="end">{n(m.calls)}</Table.Cell>
                        <Table.Cell textAlign="end">{n(m.prompt_tokens)}</Table.Cell>
                        <Table.Cell textAlign="end">{n(m.cached_tokens)}</Table.Cell>
                        <Table.Cell textAlign="end">{n(m.completion_tokens)}</Table.Cell>
                        <Table.Cell textAlign="end">{usd(m.cost_usd)}</Table.Cell>
                      </Table.Row>
                    ))}
                  </Table.Body>
                </Table.Root>
              </Table.ScrollArea>
            )}
          </Section>

          <Section id="cost-prices-title" title={t('costs.prices')}>
            <Text textStyle="sm" color="fg.muted" mb="2">
              {t('costs.pricesExplain')}
            </Text>
            <Table.ScrollArea borderWidth="1px" rounded="lg" bg="bg">
              <Table.Root size="sm" data-testid="cost-prices">
                <Table.Header>
                  <Table.Row>
                    <Table.ColumnHeader>{t('costs.model')}</Table.ColumnHeader>
                    <Table.ColumnHeader textAlign="end">{t('costs.priceInput')}</Table.ColumnHeader>
                    <Table.ColumnHeader textAlign="end">{t('costs.priceCached')}</Table.ColumnHeader>
                    <Table.ColumnHeader textAlign="end">{t('costs.priceOutput')}</Table.ColumnHeader>
                  </Table.Row>
                </Table.Header>
                <Table.Body>
                  {costs.data.prices.map((p) => (
                    <Table.Row key={p.model}>
                      <Table.Cell>
                        <bdi dir="ltr">{p.model}</bdi>
                      </Table.Cell>
                      <Table.Cell textAlign="end">{usd(p.input)}</Table.Cell>
                      <Table.Cell textAlign="end">{usd(p.cached_input)}</Table.Cell>
                      <Table.Cell textAlign="end">{usd(p.output)}</Table.Cell>
                    </Table.Row>
                  ))}
                </Table.Body>
              </Table.Root>
            </Table.ScrollArea>
          </Section>
        </>
      )}

      <Section id="budgets-title" title={t('budget.sectionTitle')}>
        <Text textStyle="sm" color="fg.muted" mb="3">
          {t('budget.explain')}
        </Text>
        <BudgetList />
      </Section>
    </Stack>
  );
}

export { CostsPage as Component };
