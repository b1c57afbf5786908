// One shop's tile: traffic, AI, orders, cost this month, errors, last webhook, token expiry,
// licence and budget, with links to its conversations and a disable / enable button.
import { Badge, Box, Button, Flex, Heading, HStack, SimpleGrid, Stack, Text } from '@chakra-ui/react';
import { useTranslation } from 'react-i18next';
import { LuMessagesSquare } from 'react-icons/lu';
import { Link } from 'react-router';
import { DateTime } from '@/components/date-time';
import { paths } from '@/config/paths';
import type { TenantTile } from '@/features/admin-tenants/api/tenants';
import { formatNumber, formatUsd } from '@/lib/format';
import { useLanguage } from '@/lib/i18n';

const STATUS_PALETTE: Record<string, string> = { active: 'green', reconnect_needed: 'orange', disabled: 'gray' };
const LICENCE_PALETTE: Record<string, string> = {
  valid: 'green',
  expired: 'red',
  unlicensed: 'orange',
  unavailable: 'red',
  disabled: 'gray',
};

function Figure({ label, value, testId }: { label: string; value: React.ReactNode; testId?: string }) {
  return (
    <Stack gap="0" minW="0">
      <Text textStyle="xs" color="fg.muted" lineClamp={2}>
        {label}
      </Text>
      <Text fontWeight="semibold" fontVariantNumeric="tabular-nums" data-testid={testId}>
        {value}
      </Text>
    </Stack>
  );
}

export function TenantCard({ tile, onToggle }: { tile: TenantTile; onToggle: (tile: TenantTile) => void }) {
  const { t } = useTranslation('admin');
  const language = useLanguage();
  const n = (v: number) => formatNumber(v, language);
  const name = tile.ig_handle ? `@${tile.ig_handle}` : (tile.display_name ?? tile.id);
  const disabled = tile.status === 'disabled';
  const headingId = `shop-${tile.id}`;
  return (
    <Box
      as="article"
      aria-labelledby={headingId}
      borderWidth="1px"
      rounded="lg"
      bg="bg"
      p="4"
      data-testid="tenant-tile"
      data-handle={tile.ig_handle ?? ''}
      data-status={tile.status}
    >
      <Stack gap="3">
        <Flex gap="2" align="start" wrap="wrap">
          <Stack gap="0" flex="1" minW="0">
            <Heading as="h2" size="sm" id={headingId} truncate>
              <bdi dir="ltr">{name}</bdi>
            </Heading>
            {tile.display_name && tile.ig_handle && (
              <Text textStyle="xs" color="fg.muted" truncate>
                {tile.display_name}
              </Text>
            )}
          </Stack>
          <HStack gap="1" wrap="wrap">
            <Badge colorPalette={STATUS_PALETTE[tile.status] ?? 'gray'} data-testid="tenant-status">
              {t(`status.${tile.status}`, { defaultValue: tile.status })}
            </Badge>
            {tile.problems > 0 && (
              <Badge colorPalette="red" variant="solid" bg="red.700">
                {t('tenants.problems', { count: tile.problems, n: n(tile.problems) })}
              </Badge>
            )}
          </HStack>
        </Flex>
        <SimpleGrid columns={{ base: 2, sm: 3 }} gap="3">
          <Figure label={t('tenants.messages24h')} value={n(tile.messages_24h)} />
          <Figure label={t('tenants.messages30d')} value={n(tile.messages_30d)} />
          <Figure label={t('tenants.aiReplies')} value={n(tile.ai_replies_30d)} />
          <Figure label={t('tenants.handoffs')} value={n(tile.handoffs_30d)} />
          <Figure label={t('tenants.orders')} value={n(tile.orders_30d)} />
          <Figure label={t('tenants.errors')} value={n(tile.errors_30d)} />
          <Figure label={t('tenants.costMonth')} value={formatUsd(tile.cost_month_usd, language)} testId="tenant-cost" />
          <Figure label={t('tenants.lastWebhook')} value={<DateTime value={tile.last_webhook_at} relative />} />
          <Figure label={t('tenants.tokenExpires')} value={<DateTime value={tile.token_expires_at} relative />} />
        </SimpleGrid>
        <Stack gap="1" textStyle="sm">
          <Flex gap="2" align="center" wrap="wrap">
            <Text color="fg.muted">{t('tenants.licence')}</Text>
            <Badge colorPalette={LICENCE_PALETTE[tile.licence.state] ?? 'gray'} data-testid="tenant-licence">
              {t(`licenceState.${tile.licence.state}`, { defaultValue: tile.licence.state })}
            </Badge>
            {tile.licence.days_left != null && tile.licence.state === 'valid' && (
              <Text textStyle="xs" color="fg.muted">
                {t('licences.daysLeft', { count: tile.licence.days_left, n: n(tile.licence.days_left) })}
              </Text>
            )}
          </Flex>
          {tile.budget && (
            <Flex gap="2" align="center" wrap="wrap">
              <Text color="fg.muted">{t('tenants.budget')}</Text>
              <Text fontVariantNumeric="tabular-nums">
                {t('tenants.budgetUse', {
                  spent: formatUsd(tile.budget.spent_usd, language),
                  limit: formatUsd(tile.budget.monthly_usd, language),
                  percent: n(tile.budget.percent),
                })}
              </Text>
            </Flex>
          )}
        </Stack>
        <Flex gap="2" wrap="wrap" justify="end">
          <Button asChild size="xs" variant="outline">
            <Link to={paths.adminConversations.getHref(tile.id)} aria-label={t('tenants.conversationsOf', { name })}>
              <LuMessagesSquare aria-hidden />
              {t('tenants.conversations')}
            </Link>
          </Button>
          <Button
            size="xs"
            variant={disabled ? 'solid' : 'outline'}
            colorPalette={disabled ? 'green' : 'red'}
            aria-label={disabled ? t('tenants.enableLabel', { name }) : t('tenants.disableLabel', { name })}
            onClick={() => onToggle(tile)}
          >
            {disabled ? t('tenants.enable') : t('tenants.disable')}
          </Button>
        </Flex>
      </Stack>
    </Box>
  );
}
