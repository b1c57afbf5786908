// The orders list: filters kept in the address (so back/forward and links keep them), a table
// on wide screens and cards on a phone, pages of 25, CSV export of the same filter.
import { Badge, Box, Button, ButtonGroup, Card, Checkbox, Field, Flex, IconButton, Input, LinkBox, LinkOverlay, NativeSelect, Pagination, SimpleGrid, Stack, Table, Text } from '@chakra-ui/react';
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { LuChevronLeft, LuChevronRight, LuDownload, LuShoppingBag } from 'react-icons/lu';
import { Link as RouterLink, useSearchParams } from 'react-router';
import { DateTime } from '@/components/date-time';
import { EmptyState } from '@/components/empty-state';
import { ErrorAlert } from '@/components/error-alert';
import { LoadingSkeleton } from '@/components/loading-skeleton';
import { Money } from '@/components/money';
import { PageHeader } from '@/components/page-header';
import { toaster } from '@/components/toaster';
import { paths } from '@/config/paths';
import { errorMessage } from '@/lib/api-client';
import { formatNumber } from '@/lib/format';
import { useLanguage } from '@/lib/i18n';
import { exportOrders, ORDER_STATUSES, PER_PAGE, useOrders } from '@/features/orders/api/orders';
import { filterFrom, withFilter, type OrderFilter } from '@/features/orders/lib/order-filter';
import { OrderStatusBadge } from '@/features/orders/components/order-status-badge';

export function OrderList() {
  const { t } = useTranslation('orders');
  const language = useLanguage();
  const [params, setParams] = useSearchParams();
  const filter = filterFrom(params);
  const orders = useOrders(filter);
  const [customer, setCustomer] = useState(filter.customer ?? '');
  const [exporting, setExporting] = useState(false);

  const setFilter = (key: keyof OrderFilter, value: string | undefined) => {
    setParams(withFilter(params, key, value), { replace: true });
  };

  useEffect(() => {
    const timer = setTimeout(() => {
      if ((filter.customer ?? '') !== customer.trim()) setFilter('customer', customer.trim() || undefined);
    }, 350);
    return () => clearTimeout(timer);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [customer]);

  const filtered = Boolean(filter.status || filter.from || filter.to || filter.customer || filter.include_tests);
  const doExport = () => {
    setExporting(true);
    exportOrders(filter)
      .catch((error: unknown) => toaster.create({ type: 'error', description: errorMessage(error) }))
      .finally(() => setExporting(false));
  };
  const total = orders.data?.total ?? 0;

  return (
    <Stack gap="5">
      <PageHeader
        title={t('title')}
        description={orders.data ? t('count', { count: total, n: formatNumber(total, language) }) : t('description')}
        actions={
          <Button variant="outline" onClick={doExport} loading={exporting} disabled={total === 0}>
            <LuDownload aria-hidden /> {t('export')}
          </Button>
        }
      />
      <Box as="form" role="search" aria-label={t('filters')} onSubmit={(e) => e.preventDefault()}>
        <SimpleGrid columns={{ base: 1, sm: 2, lg: 4 }} gap="3">
          <Field.Root>
            <Field.Label>{t('filter.status')}</Field.Label>
            <NativeSelect.Root>
              <NativeSelect.Field value={filter.status ?? ''} onChange={(e) => setFilter('status', e.target.value || undefined)}>
                <option value="">{t('filter.anyStatus')}</option>
                {ORDER_STATUSES.map((s) => (
                  <option key={s} value={s}>
                    {t(`status.${s}`)}
                  </option>
                ))}
              </NativeSelect.Field>
              <NativeSelect.Indicator />
            </NativeSelect.Root>
          </Field.Root>
          <Field.Root>
            <Field.Label>{t('filter.from')}</Field.Label>
            <Input type="date" value={filter.from ?? ''} max={filter.to} onChange={(e) => setFilter('from', e.target.value || undefined)} />
          </Field.Root>
          <Field.Root>
            <Field.Label>{t('filter.to')}</Field.Label>
            <Input type="date" value={filter.to ?? ''} min={filter.from} onChange={(e) => setFilter('to', e.target.value || undefined)} />
          </Field.Root>
          <Field.Root>
            <Field.Label>{t('filter.customer')}</Field.Label>
            <Input type="search" value={customer} onChange={(e) => setCustomer(e.target.value)} placeholder={t('filter.customerPlaceholder')} />
          </Field.Root>
        </SimpleGrid>
        <Checkbox.Root
          mt="3"
          checked={filter.include_tests === true}
          onCheckedChange={(e) => setFilter('include_tests', e.checked === true ? 'true' : undefined)}
        >
          <Checkbox.HiddenInput />
          <Checkbox.Control />
          <Checkbox.Label>{t('filter.includeTests')}</Checkbox.Label>
        </Checkbox.Root>
        {filtered && (
          <Button mt="2" size="sm" variant="ghost" onClick={() => { setCustomer(''); setParams(new URLSearchParams(), { replace: true }); }}>
            {t('filter.clear')}
          </Button>
        )}
      </Box>

      {orders.isPending ? (
        <LoadingSkeleton rows={5} />
      ) : orders.isError ? (
        <ErrorAlert error={orders.error} onRetry={() => void orders.refetch()} />
      ) : orders.data.items.length === 0 ? (
        <EmptyState
          icon={<LuShoppingBag />}
          title={filtered ? t('empty.filteredTitle') : t('empty.title')}
          description={filtered ? t('empty.filtered') : t('empty.description')}
        />
      ) : (
        <>
          <Table.ScrollArea borderWidth="1px" rounded="md" hideBelow="md">
            <Table.Root size="sm" interactive aria-label={t('title')}>
              <Table.Header>
                <Table.Row>
                  <Table.ColumnHeader>{t('col.number')}</Table.ColumnHeader>
                  <Table.ColumnHeader>{t('col.placed')}</Table.ColumnHeader>
                  <Table.ColumnHeader>{t('col.customer')}</Table.ColumnHeader>
                  <Table.ColumnHeader>{t('col.city')}</Table.ColumnHeader>
                  <Table.ColumnHeader textAlign="end">{t('col.items')}</Table.ColumnHeader>
                  <Table.ColumnHeader textAlign="end">{t('col.total')}</Table.ColumnHeader>
                  <Table.ColumnHeader>{t('col.status')}</Table.ColumnHeader>
                </Table.Row>
              </Table.Header>
              <Table.Body>
                {orders.data.items.map((o) => (
                  <Table.Row key={o.id}>
                    <Table.Cell>
                      <RouterLink to={paths.order.getHref(o.id)} aria-label={t('open', { number: o.order_number })}>
                        <Text as="span" color="fg.info" fontWeight="medium" textDecoration="underline">#{o.order_number}</Text>
                      </RouterLink>
                      {o.is_test && <Badge ms="2" size="sm" colorPalette="purple">{t('test')}</Badge>}
                    </Table.Cell>
                    <Table.Cell><DateTime value={o.created_at} /></Table.Cell>
                    <Table.Cell>
                      {o.customer_name ?? '—'}
                      {o.customer_phone && <Text textStyle="xs" color="fg.muted" dir="ltr" textAlign="start">{o.customer_phone}</Text>}
                    </Table.Cell>
                    <Table.Cell>{o.city ?? '—'}</Table.Cell>
                    <Table.Cell textAlign="end">{formatNumber(o.item_count, language)}</Table.Cell>
                    <Table.Cell textAlign="end"><Money jod={o.total_jod} /></Table.Cell>
                    <Table.Cell><OrderStatusBadge status={o.status} /></Table.Cell>
                  </Table.Row>
                ))}
              </Table.Body>
            </Table.Root>
          </Table.ScrollArea>
          <Stack gap="3" hideFrom="md" as="ul" listStyleType="none" aria-label={t('title')}>
            {orders.data.items.map((o) => (
              <LinkBox as="li" key={o.id}>
                <Card.Root size="sm" variant="outline">
                  <Card.Body>
                    <Flex justify="space-between" align="center" gap="2">
                      <LinkOverlay asChild>
                        <RouterLink to={paths.order.getHref(o.id)} aria-label={t('open', { number: o.order_number })}>
                          <Text fontWeight="semibold">#{o.order_number}</Text>
                        </RouterLink>
                      </LinkOverlay>
                      {o.is_test && <Badge size="sm" colorPalette="purple">{t('test')}</Badge>}
                      <OrderStatusBadge status={o.status} />
                    </Flex>
                    <Flex justify="space-between" mt="1" gap="2">
                      <Text truncate>{o.customer_name ?? '—'}{o.city ? ` · ${o.city}` : ''}</Text>
                      <Text fontWeight="medium"><Money jod={o.total_jod} /></Text>
                    </Flex>
                    <Text textStyle="xs" color="fg.muted"><DateTime value={o.created_at} /></Text>
                  </Card.Body>
                </Card.Root>
              </LinkBox>
            ))}
          </Stack>
          {total > PER_PAGE && (
            <Pagination.Root
              count={total}
              pageSize={PER_PAGE}
              page={filter.page ?? 1}
              onPageChange={(e) => setFilter('page', String(e.page))}
              translations={{ nextTriggerLabel: t('nextPage'), prevTriggerLabel: t('prevPage'), itemLabel: (d) => t('pageN', { n: d.page }) }}
            >
              <ButtonGroup variant="ghost" size="sm" wrap="wrap">
                <Pagination.PrevTrigger asChild>
                  <IconButton _rtl={{ transform: "scaleX(-1)" }}><LuChevronLeft /></IconButton>
                </Pagination.PrevTrigger>
                <Pagination.Items render={(page) => <IconButton variant={{ base: 'ghost', _selected: 'outline' }}>{formatNumber(page.value, language)}</IconButton>} />
                <Pagination.NextTrigger asChild>
                  <IconButton _rtl={{ transform: "scaleX(-1)" }}><LuChevronRight /></IconButton>
                </Pagination.NextTrigger>
              </ButtonGroup>
            </Pagination.Root>
          )}
        </>
      )}
    </Stack>
  );
}
