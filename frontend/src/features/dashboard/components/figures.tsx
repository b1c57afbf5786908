import { SimpleGrid, Stack, Text } from '@chakra-ui/react';
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import type { Overview } from '@/features/dashboard/api/get-dashboard';
import { formatMoney, formatNumber, formatUsd } from '@/lib/format';
import { useLanguage } from '@/lib/i18n';

function Figure({ label, value, help }: { label: string; value: ReactNode; help?: ReactNode }) {
  return (
    <Stack gap="1" borderWidth="1px" rounded="lg" p="4" bg="bg">
      <Text textStyle="sm" color="fg.muted">
        {label}
      </Text>
      <Text textStyle="2xl" fontWeight="semibold" fontVariantNumeric="tabular-nums">
        {value}
      </Text>
      {help && (
        <Text textStyle="xs" color="fg.muted">
          {help}
        </Text>
      )}
    </Stack>
  );
}

/** The range's totals, each a card. */
export function Figures({ overview }: { overview: Overview }) {
  const { t } = useTranslation('dashboard');
  const language = useLanguage();
  const n = (value: number) => formatNumber(value, language);
  const tokens = overview.tokens.prompt + overview.tokens.completion;
  return (
    <SimpleGrid columns={{ base: 2, md: 3, xl: 4 }} gap="3" data-testid="overview-figures">
      <Figure
        label={t('figures.conversations')}
        value={n(overview.conversations)}
        help={t('figures.newConversations', { count: overview.new_conversations, value: n(overview.new_conversations) })}
      />
      <Figure label={t('figures.messagesIn')} value={n(overview.messages_in)} />
      <Figure label={t('figures.aiReplies')} value={n(overview.ai_replies)} />
      <Figure label={t('figures.handoffs')} value={n(overview.handoffs)} />
      <Figure
        label={t('figures.orders')}
        value={n(overview.orders.not_cancelled)}
        help={
          overview.orders.total !== overview.orders.not_cancelled
            ? t('figures.ordersCancelled', { value: n(overview.orders.total - overview.orders.not_cancelled) })
            : undefined
        }
      />
      <Figure label={t('figures.revenue')} value={formatMoney(overview.revenue_jod, language)} />
      <Figure
        label={t('figures.tokens')}
        value={n(tokens)}
        help={t('figures.tokensDetail', {
          prompt: n(overview.tokens.prompt),
          cached: n(overview.tokens.cached),
          completion: n(overview.tokens.completion),
        })}
      />
      <Figure label={t('figures.cost')} value={formatUsd(overview.cost_usd, language)} />
    </SimpleGrid>
  );
}
