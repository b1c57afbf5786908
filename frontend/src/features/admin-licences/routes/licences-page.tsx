// Licences: every handle of the verified whitelist with its last day, days left and the shop
// it matches; the shops that have none; add / extend / remove, signed and published by the
// server. Without a signing key the page is read-only and shows the CLI commands instead.
import { Alert, Badge, Box, Button, Flex, Heading, Stack, Table, Text } from '@chakra-ui/react';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { LuKeyRound, LuPlus } from 'react-icons/lu';
import { ConfirmDialog } from '@/components/confirm-dialog';
import { DateTime } from '@/components/date-time';
import { EmptyState } from '@/components/empty-state';
import { ErrorAlert } from '@/components/error-alert';
import { LoadingSkeleton } from '@/components/loading-skeleton';
import { PageHeader } from '@/components/page-header';
import {
  cliOf,
  type LicenceRow,
  useLicences,
  useRemoveLicence,
  useShopsForLicences,
} from '@/features/admin-licences/api/licences';
import { CliCommands } from '@/features/admin-licences/components/cli-commands';
import { type LicenceDraft, LicenceDialog } from '@/features/admin-licences/components/licence-dialog';
import { extendedExpiry, licenceTone, unlicensedShops } from '@/features/admin-licences/licence-rules';
import { errorMessage } from '@/lib/api-client';
import { ammanDay, formatDay, formatNumber } from '@/lib/format';
import { useLanguage } from '@/lib/i18n';

const TONE_PALETTE = { expired: 'red', lastDay: 'orange', soon: 'orange', ok: 'green' } as const;

function DaysLeft({ days }: { days: number }) {
  const { t } = useTranslation('admin');
  const language = useLanguage();
  const tone = licenceTone(days);
  return (
    <Badge colorPalette={TONE_PALETTE[tone]} data-testid="days-left" data-tone={tone}>
      {tone === 'expired'
        ? t('licences.expiredAgo', { count: -days, n: formatNumber(-days, language) })
        : tone === 'lastDay'
          ? t('licences.lastDayToday')
          : t('licences.daysLeft', { count: days, n: formatNumber(days, language) })}
    </Badge>
  );
}

export function LicencesPage() {
  const { t } = useTranslation('admin');
  const language = useLanguage();
  const licences = useLicences();
  const shops = useShopsForLicences();
  const remove = useRemoveLicence();
  const [draft, setDraft] = useState<LicenceDraft | null>(null);
  const [removing, setRemoving] = useState<LicenceRow | null>(null);
  const today = ammanDay();

  if (licences.isPending) {
    return (
      <>
        <PageHeader title={t('licences.title')} />
        <LoadingSkeleton />
      </>
    );
  }
  if (licences.isError) {
    return (
      <>
        <PageHeader title={t('licences.title')} />
        <ErrorAlert error={licences.error} onRetry={() => void licences.refetch()} />
      </>
    );
  }
  const view = licences.data;
  const canSign = view.can_sign;
  const withoutLicence = shops.data
    ? unlicensedShops(shops.data.tenants, view.licences.map((l) => l.handle))
    : [];

  /** Extend / remove for one licence (in its row at desktop width, under the handle on a phone). */
  const actionsOf = (row: LicenceRow, justify: 'start' | 'end') => (
    <Flex gap="2" justify={justify} wrap="wrap">
      <Button
        size="xs"
        variant="outline"
        aria-label={t('licences.extendLabel', { handle: row.handle })}
        onClick={() =>
          setDraft({ handle: row.handle, expiresOn: extendedExpiry(row.expires_on, today), fixedHandle: true })
        }
      >
        {t('licences.extend')}
      </Button>
      <Button
        size="xs"
        variant="outline"
        colorPalette="red"
        aria-label={t('licences.removeLabel', { handle: row.handle })}
        onClick={() => {
          remove.reset();
          setRemoving(row);
        }}
      >
        {t('licences.remove')}
      </Button>
    </Flex>
  );

  return (
    <Stack gap="6">
      <PageHeader
        title={t('licences.title')}
        description={
          view.version != null
            ? (
                <>
                  {t('licences.version', { version: view.version })} <bdi dir="ltr">{view.source ?? '—'}</bdi>
                </>
              )
            : t('licences.description')
        }
        actions={
          canSign && (
            <Button
              colorPalette="purple"
              onClick={() => setDraft({ handle: '', expiresOn: extendedExpiry(null, today), fixedHandle: false })}
            >
              <LuPlus aria-hidden />
              {t('licences.add')}
            </Button>
          )
        }
      />
      {view.issued_at && (
        <Text textStyle="sm" color="fg.muted" mt="-4">
          {t('licences.issuedAt')} <DateTime value={view.issued_at} />
        </Text>
      )}

      {view.error && (
        <Alert.Root status="error" role="alert">
          <Alert.Indicator />
          <Alert.Content>
            <Alert.Title>{t('licences.unusable')}</Alert.Title>
            <Alert.Description>{view.error}</Alert.Description>
          </Alert.Content>
        </Alert.Root>
      )}

      {!canSign && (
        <Alert.Root status="info" data-testid="licences-read-only">
          <Alert.Indicator />
          <Alert.Content>
            <Alert.Title>{t('licences.readOnlyTitle')}</Alert.Title>
            <Alert.Description>
              <Stack gap="3" mt="1">
                <Text>{t('licences.readOnly')}</Text>
                <CliCommands commands={view.cli} />
              </Stack>
            </Alert.Description>
          </Alert.Content>
        </Alert.Root>
      )}

      <Box as="section" aria-labelledby="licences-list-title">
        <Heading as="h2" size="md" id="licences-list-title" mb="3">
          {t('licences.listTitle')}
        </Heading>
        {view.licences.length === 0 ? (
          <Box borderWidth="1px" rounded="lg" bg="bg">
            <EmptyState
              icon={<LuKeyRound />}
              title={t('licences.emptyTitle')}
              description={canSign ? t('licences.empty') : t('licences.emptyReadOnly')}
              headingLevel="p"
            />
          </Box>
        ) : (
          <Table.ScrollArea borderWidth="1px" rounded="lg" bg="bg">
            <Table.Root size="sm" data-testid="licences-table">
              <Table.Header>
                <Table.Row>
                  <Table.ColumnHeader>{t('licences.handle')}</Table.ColumnHeader>
                  <Table.ColumnHeader display={{ base: 'none', md: 'table-cell' }}>{t('licences.shop')}</Table.ColumnHeader>
                  <Table.ColumnHeader display={{ base: 'none', md: 'table-cell' }}>{t('licences.lastDay')}</Table.ColumnHeader>
                  <Table.ColumnHeader>{t('licences.left')}</Table.ColumnHeader>
                  {canSign && (
                    <Table.ColumnHeader textAlign="end" display={{ base: 'none', md: 'table-cell' }}>
                      {t('licences.actions')}
                    </Table.ColumnHeader>
                  )}
                </Table.Row>
              </Table.Header>
              <Table.Body>
                {view.licences.map((row) => (
                  <Table.Row key={row.handle} data-testid="licence-row" data-handle={row.handle}>
                    <Table.Cell>
                      <bdi dir="ltr">@{row.handle}</bdi>
                      {/* At phone width the shop and the last day sit under the handle. */}
                      <Stack display={{ base: 'flex', md: 'none' }} gap="2" mt="1">
                        <Text textStyle="xs" color="fg.muted" whiteSpace="normal">
                          {row.tenant ? (row.tenant.display_name ?? `@${row.handle}`) : t('licences.noShop')} ·{' '}
                          {formatDay(row.expires_on, language)}
                        </Text>
                        {canSign && actionsOf(row, 'start')}
                      </Stack>
                    </Table.Cell>
                    <Table.Cell display={{ base: 'none', md: 'table-cell' }}>
                      {row.tenant ? (
                        <Stack gap="0">
                          <Text>{row.tenant.display_name ?? `@${row.handle}`}</Text>
                          {row.tenant.status !== 'active' && (
                            <Text textStyle="xs" color="fg.muted">
                              {t(`status.${row.tenant.status}`, { defaultValue: row.tenant.status })}
                            </Text>
                          )}
                        </Stack>
                      ) : (
                        <Text color="fg.muted">{t('licences.noShop')}</Text>
                      )}
                    </Table.Cell>
                    <Table.Cell whiteSpace="nowrap" display={{ base: 'none', md: 'table-cell' }}>
                      {formatDay(row.expires_on, language)}
                    </Table.Cell>
                    <Table.Cell whiteSpace="nowrap" verticalAlign="top">
                      <DaysLeft days={row.days_left} />
                    </Table.Cell>
                    {canSign && (
                      <Table.Cell textAlign="end" display={{ base: 'none', md: 'table-cell' }}>
                        {actionsOf(row, 'end')}
                      </Table.Cell>
                    )}
                  </Table.Row>
                ))}
              </Table.Body>
            </Table.Root>
          </Table.ScrollArea>
        )}
      </Box>

      <Box as="section" aria-labelledby="unlicensed-title">
        <Heading as="h2" size="md" id="unlicensed-title" mb="1">
          {t('licences.unlicensedTitle')}
        </Heading>
        <Text textStyle="sm" color="fg.muted" mb="3">
          {t('licences.unlicensedExplain')}
        </Text>
        {shops.isPending ? (
          <LoadingSkeleton rows={1} />
        ) : shops.isError ? (
          <ErrorAlert error={shops.error} onRetry={() => void shops.refetch()} />
        ) : withoutLicence.length === 0 ? (
          <Text p="4" borderWidth="1px" rounded="lg" bg="bg" color="fg.muted" data-testid="unlicensed-empty">
            {t('licences.unlicensedEmpty')}
          </Text>
        ) : (
          <Stack as="ul" listStyleType="none" m="0" p="0" gap="2" data-testid="unlicensed-shops">
            {withoutLicence.map((shop) => (
              <Stack
                as="li"
                key={shop.id}
                direction="row"
                align="center"
                gap="3"
                p="3"
                borderWidth="1px"
                rounded="lg"
                bg="bg"
                data-handle={shop.ig_handle}
              >
                <Stack gap="0" flex="1" minW="0">
                  <Text fontWeight="medium" truncate>
                    <bdi dir="ltr">@{shop.ig_handle}</bdi>
                  </Text>
                  <Text textStyle="xs" color="fg.muted" truncate>
                    {shop.licence.message}
                  </Text>
                </Stack>
                {canSign && (
                  <Button
                    size="sm"
                    colorPalette="purple"
                    variant="subtle"
                    aria-label={t('licences.licenseLabel', { handle: shop.ig_handle })}
                    onClick={() =>
                      setDraft({ handle: shop.ig_handle!, expiresOn: extendedExpiry(null, today), fixedHandle: true })
                    }
                  >
                    {t('licences.license')}
                  </Button>
                )}
              </Stack>
            ))}
          </Stack>
        )}
      </Box>

      <LicenceDialog draft={draft} onClose={() => setDraft(null)} />
      <ConfirmDialog
        open={removing !== null}
        onOpenChange={(open) => !open && setRemoving(null)}
        title={t('licences.removeTitle', { handle: removing?.handle ?? '' })}
        body={t('licences.removeBody')}
        confirmLabel={t('licences.remove')}
        pending={remove.isPending}
        error={remove.isError ? [errorMessage(remove.error), ...cliOf(remove.error)].join('\n') : null}
        onConfirm={() => removing && remove.mutate(removing.handle, { onSuccess: () => setRemoving(null) })}
      />
    </Stack>
  );
}

export { LicencesPage as Component };
