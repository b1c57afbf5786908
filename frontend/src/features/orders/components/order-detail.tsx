// One order: its lines and totals, the customer, the status history, and the changes its
// status allows now (the API says which). Cancelling asks first.
import { Box, Button, Card, Field, Flex, Grid, Heading, HStack, Link, List, Stack, Table, Text, Textarea } from '@chakra-ui/react';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { LuArrowLeft } from 'react-icons/lu';
import { Link as RouterLink } from 'react-router';
import { ConfirmDialog } from '@/components/confirm-dialog';
import { DateTime } from '@/components/date-time';
import { ErrorAlert } from '@/components/error-alert';
import { LoadingSkeleton } from '@/components/loading-skeleton';
import { Money } from '@/components/money';
import { paths } from '@/config/paths';
import { errorMessage } from '@/lib/api-client';
import { formatNumber } from '@/lib/format';
import { useLanguage } from '@/lib/i18n';
import { statusBody, useChangeOrderStatus, useOrder, type OrderStatus } from '@/features/orders/api/orders';
import { OrderStatusBadge } from '@/features/orders/components/order-status-badge';

export function OrderDetailView({ orderId }: { orderId: string }) {
  const { t } = useTranslation('orders');
  const language = useLanguage();
  const order = useOrder(orderId);
  const change = useChangeOrderStatus();
  const [note, setNote] = useState('');
  const [confirming, setConfirming] = useState<OrderStatus | null>(null);

  const back = (
    <Link asChild mb="4" display="inline-flex" gap="1" alignItems="center">
      <RouterLink to={paths.orders.getHref()}>
        <Box as="span" _rtl={{ transform: 'scaleX(-1)' }} display="inline-flex"><LuArrowLeft aria-hidden /></Box>
        {t('back')}
      </RouterLink>
    </Link>
  );
  if (order.isPending) return <>{back}<LoadingSkeleton rows={5} /></>;
  if (order.isError) return <>{back}<ErrorAlert error={order.error} onRetry={() => void order.refetch()} /></>;
  const o = order.data;

  const setStatus = (status: OrderStatus) =>
    change.mutate(
      { params: { path: { id: o.id } }, body: statusBody(status, note.trim() || undefined) },
      { onSuccess: () => { setNote(''); setConfirming(null); } },
    );

  return (
    <Stack gap="5">
      {back}
      <Flex gap="3" align="center" wrap="wrap">
        <Heading as="h1" size="xl">{t('detail.title', { number: o.order_number })}</Heading>
        <OrderStatusBadge status={o.status} />
        <Text color="fg.muted" textStyle="sm"><DateTime value={o.created_at} /> · {t(`source.${o.source}`, { defaultValue: o.source })}</Text>
      </Flex>
      <Grid templateColumns={{ base: '1fr', lg: '2fr 1fr' }} gap="5" alignItems="start">
        <Stack gap="5">
          <Card.Root variant="outline">
            <Card.Header><Card.Title as="h2">{t('detail.items')}</Card.Title></Card.Header>
            <Card.Body>
              <Table.ScrollArea>
                <Table.Root size="sm">
                  <Table.Header>
                    <Table.Row>
                      <Table.ColumnHeader>{t('detail.product')}</Table.ColumnHeader>
                      <Table.ColumnHeader textAlign="end">{t('detail.quantity')}</Table.ColumnHeader>
                      <Table.ColumnHeader textAlign="end">{t('detail.unitPrice')}</Table.ColumnHeader>
                      <Table.ColumnHeader textAlign="end">{t('detail.lineTotal')}</Table.ColumnHeader>
                    </Table.Row>
                  </Table.Header>
                  <Table.Body>
                    {o.items.map((line, i) => (
                      <Table.Row key={`${line.sku}-${i}`}>
                        <Table.Cell>{line.name}<Text textStyle="xs" color="fg.muted" dir="ltr" textAlign="start">{line.sku}</Text></Table.Cell>
                        <Table.Cell textAlign="end">{formatNumber(line.quantity, language)}</Table.Cell>
                        <Table.Cell textAlign="end"><Money jod={line.unit_price_jod} /></Table.Cell>
                        <Table.Cell textAlign="end"><Money jod={line.line_total_jod} /></Table.Cell>
                      </Table.Row>
                    ))}
                  </Table.Body>
                  <Table.Footer>
                    <Table.Row>
                      <Table.Cell colSpan={3} textAlign="end">{t('detail.subtotal')}</Table.Cell>
                      <Table.Cell textAlign="end"><Money jod={o.subtotal_jod} /></Table.Cell>
                    </Table.Row>
                    <Table.Row>
                      <Table.Cell colSpan={3} textAlign="end">{t('detail.delivery')}</Table.Cell>
                      <Table.Cell textAlign="end"><Money jod={o.delivery_fee_jod} /></Table.Cell>
                    </Table.Row>
                    <Table.Row>
                      <Table.Cell colSpan={3} textAlign="end" fontWeight="semibold">{t('detail.total')}</Table.Cell>
                      <Table.Cell textAlign="end" fontWeight="semibold"><Money jod={o.total_jod} /></Table.Cell>
                    </Table.Row>
                  </Table.Footer>
                </Table.Root>
              </Table.ScrollArea>
              {o.notes && <Text mt="3" whiteSpace="pre-wrap"><b>{t('detail.notes')}:</b> {o.notes}</Text>}
            </Card.Body>
          </Card.Root>
          <Card.Root variant="outline">
            <Card.Header><Card.Title as="h2">{t('detail.history')}</Card.Title></Card.Header>
            <Card.Body>
              <List.Root gap="2" variant="plain" as="ol">
                {o.history.map((h, i) => (
                  <List.Item key={i} display="block">
                    <Text>
                      {h.from ? t('detail.changed', { from: t(`status.${h.from}`, { defaultValue: h.from }), to: t(`status.${h.to}`, { defaultValue: h.to }) }) : t('detail.placed', { to: t(`status.${h.to}`, { defaultValue: h.to }) })}
                    </Text>
                    <Text textStyle="xs" color="fg.muted"><DateTime value={h.at} /> · {t(`by.${h.by}`, { defaultValue: h.by })}</Text>
                  </List.Item>
                ))}
              </List.Root>
            </Card.Body>
          </Card.Root>
        </Stack>
        <Stack gap="5">
          <Card.Root variant="outline">
            <Card.Header><Card.Title as="h2">{t('detail.customer')}</Card.Title></Card.Header>
            <Card.Body>
              <Stack gap="1">
                <Text fontWeight="medium">{o.customer_name ?? '—'}</Text>
                {o.customer_phone && <Link href={`tel:${o.customer_phone}`} dir="ltr" alignSelf="flex-start">{o.customer_phone}</Link>}
                {o.city && <Text>{o.city}</Text>}
                {o.address && <Text whiteSpace="pre-wrap">{o.address}</Text>}
                {o.conversation_id && (
                  <Link asChild color="fg.info" mt="2">
                    <RouterLink to={paths.conversation.getHref(o.conversation_id)}>{t('detail.conversation')}</RouterLink>
                  </Link>
                )}
              </Stack>
            </Card.Body>
          </Card.Root>
          <Card.Root variant="outline">
            <Card.Header><Card.Title as="h2">{t('detail.changeStatus')}</Card.Title></Card.Header>
            <Card.Body>
              {o.allowed_next.length === 0 ? (
                <Text color="fg.muted">{t('detail.final')}</Text>
              ) : (
                <Stack gap="3">
                  <Field.Root>
                    <Field.Label>{t('detail.note')}</Field.Label>
                    <Textarea value={note} onChange={(e) => setNote(e.target.value)} rows={2} dir="auto" />
                  </Field.Root>
                  <HStack gap="2" wrap="wrap">
                    {o.allowed_next.map((s) => (
                      <Button
                        key={s}
                        size="sm"
                        variant={s === 'cancelled' ? 'outline' : 'solid'}
                        colorPalette={s === 'cancelled' ? 'red' : 'blue'}
                        loading={change.isPending && change.variables?.body && (change.variables.body as unknown as { status: string }).status === s}
                        onClick={() => (s === 'cancelled' ? setConfirming(s) : setStatus(s))}
                      >
                        {t(`action.${s}`, { defaultValue: t(`status.${s}`) })}
                      </Button>
                    ))}
                  </HStack>
                  {change.isError && !confirming && <ErrorAlert error={change.error} title={t('detail.notChanged')} />}
                </Stack>
              )}
            </Card.Body>
          </Card.Root>
        </Stack>
      </Grid>
      <ConfirmDialog
        open={confirming !== null}
        onOpenChange={(open) => { if (!open) { setConfirming(null); change.reset(); } }}
        title={t('detail.cancelTitle', { number: o.order_number })}
        body={t('detail.cancelBody')}
        confirmLabel={t('action.cancelled')}
        pending={change.isPending}
        error={change.isError ? errorMessage(change.error) : null}
        onConfirm={() => confirming && setStatus(confirming)}
      />
    </Stack>
  );
}
