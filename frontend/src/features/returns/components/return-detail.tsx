// One return request: the reason, the order, the note, and the changes its status allows.
import { Box, Button, Card, Field, Flex, Heading, HStack, Link, Stack, Text, Textarea } from '@chakra-ui/react';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { LuArrowLeft } from 'react-icons/lu';
import { Link as RouterLink } from 'react-router';
import { ConfirmDialog } from '@/components/confirm-dialog';
import { DateTime } from '@/components/date-time';
import { ErrorAlert } from '@/components/error-alert';
import { LoadingSkeleton } from '@/components/loading-skeleton';
import { paths } from '@/config/paths';
import { errorMessage } from '@/lib/api-client';
import { returnStatusBody, useChangeReturnStatus, useReturn, type ReturnStatus } from '@/features/returns/api/returns';
import { ReturnStatusBadge } from '@/features/returns/components/return-status-badge';

export function ReturnDetail({ returnId }: { returnId: string }) {
  const { t } = useTranslation('returns');
  const request = useReturn(returnId);
  const change = useChangeReturnStatus();
  const [note, setNote] = useState('');
  const [confirming, setConfirming] = useState<ReturnStatus | null>(null);

  const back = (
    <Link asChild display="inline-flex" gap="1" alignItems="center">
      <RouterLink to={paths.returns.getHref()}>
        <Box as="span" display="inline-flex" _rtl={{ transform: 'scaleX(-1)' }}><LuArrowLeft aria-hidden /></Box>
        {t('back')}
      </RouterLink>
    </Link>
  );
  if (request.isPending) return <Stack gap="4">{back}<LoadingSkeleton rows={4} /></Stack>;
  if (request.isError) return <Stack gap="4">{back}<ErrorAlert error={request.error} onRetry={() => void request.refetch()} /></Stack>;
  const r = request.data;
  const setStatus = (status: ReturnStatus) =>
    change.mutate(
      { params: { path: { id: r.id } }, body: returnStatusBody(status, note.trim() || undefined) },
      { onSuccess: () => { setNote(''); setConfirming(null); } },
    );

  return (
    <Stack gap="5" maxW="3xl">
      {back}
      <Flex gap="3" align="center" wrap="wrap">
        <Heading as="h1" size="xl">{t('forOrder', { number: r.order_number })}</Heading>
        <ReturnStatusBadge status={r.status} />
      </Flex>
      <Card.Root variant="outline">
        <Card.Body>
          <Stack gap="3">
            <Text><b>{t('customer')}:</b> {r.customer_name ?? '—'}</Text>
            <Text><b>{t('requested')}:</b> <DateTime value={r.created_at} /></Text>
            <Box>
              <Text fontWeight="bold">{t('reason')}</Text>
              <Text whiteSpace="pre-wrap" dir="auto">{r.reason || '—'}</Text>
            </Box>
            {r.merchant_note && (
              <Box>
                <Text fontWeight="bold">{t('yourNote')}</Text>
                <Text whiteSpace="pre-wrap" dir="auto">{r.merchant_note}</Text>
              </Box>
            )}
            <Link asChild color="fg.info" alignSelf="flex-start">
              <RouterLink to={paths.order.getHref(r.order_id)}>{t('openOrder', { number: r.order_number })}</RouterLink>
            </Link>
          </Stack>
        </Card.Body>
      </Card.Root>
      <Card.Root variant="outline">
        <Card.Header><Card.Title as="h2">{t('changeStatus')}</Card.Title></Card.Header>
        <Card.Body>
          {r.allowed_next.length === 0 ? (
            <Text color="fg.muted">{t('final')}</Text>
          ) : (
            <Stack gap="3">
              <Field.Root>
                <Field.Label>{t('note')}</Field.Label>
                <Textarea value={note} onChange={(e) => setNote(e.target.value)} rows={2} dir="auto" />
              </Field.Root>
              <HStack gap="2" wrap="wrap">
                {r.allowed_next.map((s) => (
                  <Button
                    key={s}
                    size="sm"
                    variant={s === 'rejected' ? 'outline' : 'solid'}
                    colorPalette={s === 'rejected' ? 'red' : 'blue'}
                    onClick={() => (s === 'rejected' ? setConfirming(s) : setStatus(s))}
                    loading={change.isPending && !confirming}
                  >
                    {t(`action.${s}`, { defaultValue: t(`status.${s}`) })}
                  </Button>
                ))}
              </HStack>
              {change.isError && !confirming && <ErrorAlert error={change.error} title={t('notChanged')} />}
            </Stack>
          )}
        </Card.Body>
      </Card.Root>
      <ConfirmDialog
        open={confirming !== null}
        onOpenChange={(open) => { if (!open) { setConfirming(null); change.reset(); } }}
        title={t('rejectTitle', { number: r.order_number })}
        body={t('rejectBody')}
        confirmLabel={t('action.rejected')}
        pending={change.isPending}
        error={change.isError ? errorMessage(change.error) : null}
        onConfirm={() => confirming && setStatus(confirming)}
      />
    </Stack>
  );
}
