// Return requests, newest first, as cards that work the same on a phone and a desktop.
import { Card, Field, Flex, LinkBox, LinkOverlay, NativeSelect, Stack, Text } from '@chakra-ui/react';
import { useTranslation } from 'react-i18next';
import { LuUndo2 } from 'react-icons/lu';
import { Link as RouterLink, useSearchParams } from 'react-router';
import { DateTime } from '@/components/date-time';
import { EmptyState } from '@/components/empty-state';
import { ErrorAlert } from '@/components/error-alert';
import { LoadingSkeleton } from '@/components/loading-skeleton';
import { PageHeader } from '@/components/page-header';
import { paths } from '@/config/paths';
import { formatNumber } from '@/lib/format';
import { useLanguage } from '@/lib/i18n';
import { RETURN_STATUSES, useReturns } from '@/features/returns/api/returns';
import { ReturnStatusBadge } from '@/features/returns/components/return-status-badge';

export function ReturnList() {
  const { t } = useTranslation('returns');
  const language = useLanguage();
  const [params, setParams] = useSearchParams();
  const status = params.get('status') ?? '';
  const returns = useReturns(status);

  return (
    <Stack gap="5">
      <PageHeader
        title={t('title')}
        description={returns.data ? t('count', { count: returns.data.length, n: formatNumber(returns.data.length, language) }) : t('description')}
      />
      <Field.Root maxW={{ sm: 'xs' }}>
        <Field.Label>{t('filter')}</Field.Label>
        <NativeSelect.Root>
          <NativeSelect.Field value={status} onChange={(e) => setParams(e.target.value ? { status: e.target.value } : {}, { replace: true })}>
            <option value="">{t('anyStatus')}</option>
            {RETURN_STATUSES.map((s) => (
              <option key={s} value={s}>{t(`status.${s}`)}</option>
            ))}
          </NativeSelect.Field>
          <NativeSelect.Indicator />
        </NativeSelect.Root>
      </Field.Root>
      {returns.isPending ? (
        <LoadingSkeleton rows={4} />
      ) : returns.isError ? (
        <ErrorAlert error={returns.error} onRetry={() => void returns.refetch()} />
      ) : returns.data.length === 0 ? (
        <EmptyState
          icon={<LuUndo2 />}
          title={status ? t('empty.filteredTitle') : t('empty.title')}
          description={status ? t('empty.filtered') : t('empty.description')}
        />
      ) : (
        <Stack as="ul" listStyleType="none" gap="3" aria-label={t('title')}>
          {returns.data.map((r) => (
            <LinkBox as="li" key={r.id}>
              <Card.Root variant="outline" size="sm">
                <Card.Body>
                  <Flex justify="space-between" gap="2" align="center">
                    <LinkOverlay asChild>
                      <RouterLink to={paths.returnRequest.getHref(r.id)}>
                        <Text fontWeight="semibold">{t('forOrder', { number: r.order_number })}</Text>
                      </RouterLink>
                    </LinkOverlay>
                    <ReturnStatusBadge status={r.status} />
                  </Flex>
                  <Text mt="1">{r.customer_name ?? '—'}</Text>
                  <Text textStyle="sm" color="fg.muted" lineClamp={2}>{r.reason}</Text>
                  <Text textStyle="xs" color="fg.muted" mt="1"><DateTime value={r.created_at} /></Text>
                </Card.Body>
              </Card.Root>
            </LinkBox>
          ))}
        </Stack>
      )}
    </Stack>
  );
}
