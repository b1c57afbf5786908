import { Alert, Box, Button, Flex, Heading, Stack, Text } from '@chakra-ui/react';
import { type TFunction } from 'i18next';
import { useTranslation } from 'react-i18next';
import { LuBellOff } from 'react-icons/lu';
import { DateTime } from '@/components/date-time';
import { ErrorAlert } from '@/components/error-alert';
import { LoadingSkeleton } from '@/components/loading-skeleton';
import { Link } from 'react-router';
import { paths } from '@/config/paths';
import { type AlertItem, useMarkAlertRead, useOpenAlerts } from '@/features/alerts/api/alerts';
import { asParams, reasonText } from '@/lib/reason-text';

/** Where the merchant fixes what an alert is about. */
function fixFor(kind: string): { href: string; label: string } | null {
  if (kind.startsWith('instagram_')) return { href: `${paths.settings.getHref()}#instagram`, label: 'fix.instagram' };
  if (kind === 'handoff') return { href: `${paths.inbox.getHref()}?filter=needs_human`, label: 'fix.handoff' };
  if (kind === 'ai_unavailable') return { href: `${paths.settings.getHref()}#model`, label: 'fix.model' };
  if (kind === 'delivery_hook_failed') return { href: `${paths.settings.getHref()}#delivery-hook`, label: 'fix.hook' };
  return null;
}

/** The alert's words: its message key in the merchant's language, else the server's English. */
function alertText(t: TFunction<'alerts'>, alert: AlertItem): string {
  const key = alert.message_key;
  if (!key) return alert.message;
  const params = asParams(alert.params);
  if (key === 'handoff') {
    const reason = reasonText(t, params.reason_key, asParams(params.reason_params));
    if (!reason) return alert.message;
    return typeof params.who === 'string' && params.who
      ? (t('message.handoff', { who: params.who, reason }) as string)
      : (t('message.handoffSomeone', { reason }) as string);
  }
  if (key === 'ai_unavailable') {
    const reason = reasonText(t, params.cause, {});
    return reason ? (t('message.ai_unavailable', { reason }) as string) : alert.message;
  }
  return t(`message.${key}`, { ...params, defaultValue: alert.message }) as string;
}

const STATUS: Record<AlertItem['severity'], 'info' | 'warning' | 'error'> = {
  info: 'info',
  warning: 'warning',
  critical: 'error',
};

/** The shop's open alerts, newest first, each with "mark as read". */
export function AlertsPanel() {
  const { t } = useTranslation('alerts');
  const alerts = useOpenAlerts();
  const markRead = useMarkAlertRead();

  return (
    <Box as="section" aria-labelledby="alerts-title" id="alerts" scrollMarginTop="20">
      <Heading as="h2" size="md" id="alerts-title" mb="3">
        {t('title')}
      </Heading>
      {alerts.isPending ? (
        <LoadingSkeleton rows={2} />
      ) : alerts.isError ? (
        <ErrorAlert error={alerts.error} onRetry={() => void alerts.refetch()} />
      ) : alerts.data.alerts.length === 0 ? (
        <Stack direction="row" align="center" gap="3" p="4" borderWidth="1px" rounded="lg" bg="bg" color="fg.muted" data-testid="alerts-empty">
          <LuBellOff aria-hidden />
          <Text>{t('empty')}</Text>
        </Stack>
      ) : (
        <Stack gap="2" as="ul" listStyleType="none" m="0" p="0" data-testid="alerts-list">
          {alerts.data.alerts.map((alert) => (
            <Box as="li" key={alert.id}>
              <Alert.Root status={STATUS[alert.severity] ?? 'info'} flexWrap={{ base: 'wrap', md: 'nowrap' }}>
                <Alert.Indicator />
                <Alert.Content>
                  <Alert.Title>{t(`kind.${alert.kind}`, { defaultValue: t('kind.other') })}</Alert.Title>
                  <Alert.Description>
                    {alertText(t, alert)}{' '}
                    <Text as="span" color="fg.muted" textStyle="xs">
                      <DateTime value={alert.created_at} relative />
                    </Text>
                  </Alert.Description>
                </Alert.Content>
                <Flex gap="2" ms="auto" alignSelf="center" flexShrink={0}>
                {fixFor(alert.kind) && (
                  <Button asChild size="xs" variant="solid" colorPalette="gray" alignSelf="center">
                    <Link to={fixFor(alert.kind)!.href}>{t(fixFor(alert.kind)!.label)}</Link>
                  </Button>
                )}
                <Button
                  size="xs"
                  variant="outline"
                  alignSelf="center"
                  loading={markRead.isPending && markRead.variables === alert.id}
                  onClick={() => markRead.mutate(alert.id)}
                >
                  {t('markRead')}
                </Button>
                </Flex>
              </Alert.Root>
            </Box>
          ))}
        </Stack>
      )}
    </Box>
  );
}
