// Platform alerts, the most severe first: stored alerts can be acknowledged; computed ones
// (shown as "live") go away when their cause does.
import { Alert, Badge, Box, Button, Flex, Stack, Text } from '@chakra-ui/react';
import { useTranslation } from 'react-i18next';
import { LuBellOff } from 'react-icons/lu';
import { DateTime } from '@/components/date-time';
import { EmptyState } from '@/components/empty-state';
import { ErrorAlert } from '@/components/error-alert';
import { LoadingSkeleton } from '@/components/loading-skeleton';
import { PageHeader } from '@/components/page-header';
import { useAcknowledgeAlert, usePlatformAlerts } from '@/features/admin-alerts/api/alerts';

const STATUS: Record<string, 'info' | 'warning' | 'error'> = { info: 'info', warning: 'warning', critical: 'error' };

export function AlertsPage() {
  const { t } = useTranslation('admin');
  const alerts = usePlatformAlerts();
  const acknowledge = useAcknowledgeAlert();

  return (
    <Stack gap="4">
      <PageHeader title={t('alerts.title')} description={t('alerts.description')} />
      {alerts.isPending ? (
        <LoadingSkeleton />
      ) : alerts.isError ? (
        <ErrorAlert error={alerts.error} onRetry={() => void alerts.refetch()} />
      ) : alerts.data.alerts.length === 0 ? (
        <Box borderWidth="1px" rounded="lg" bg="bg" data-testid="platform-alerts-empty">
          <EmptyState icon={<LuBellOff />} title={t('alerts.emptyTitle')} description={t('alerts.empty')} />
        </Box>
      ) : (
        <Stack as="ul" listStyleType="none" m="0" p="0" gap="2" data-testid="platform-alerts">
          {alerts.data.alerts.map((alert, index) => (
            <Box as="li" key={alert.id ?? `${alert.kind}-${alert.tenant_id ?? alert.ig_handle ?? ''}-${index}`} data-kind={alert.kind}>
              <Alert.Root status={STATUS[alert.severity] ?? 'info'} flexWrap={{ base: 'wrap', md: 'nowrap' }}>
                <Alert.Indicator />
                <Alert.Content>
                  <Alert.Title>
                    <Flex gap="2" align="center" wrap="wrap">
                      {t(`alertKind.${alert.kind}`, { defaultValue: alert.kind })}
                      {alert.ig_handle && (
                        <Badge variant="outline" size="sm">
                          <bdi dir="ltr">@{alert.ig_handle}</bdi>
                        </Badge>
                      )}
                      {!alert.id && (
                        <Badge size="sm" colorPalette="gray">
                          {t('alerts.live')}
                        </Badge>
                      )}
                    </Flex>
                  </Alert.Title>
                  <Alert.Description>
                    <Text as="span" dir="auto">
                      {alert.message}
                    </Text>
                    {alert.created_at && (
                      <Text as="span" color="fg.muted" textStyle="xs" ms="2">
                        <DateTime value={alert.created_at} relative />
                      </Text>
                    )}
                  </Alert.Description>
                </Alert.Content>
                {alert.id && (
                  <Button
                    size="xs"
                    variant="outline"
                    alignSelf="center"
                    ms="auto"
                    loading={acknowledge.isPending && acknowledge.variables === alert.id}
                    onClick={() => acknowledge.mutate(alert.id!)}
                  >
                    {t('alerts.acknowledge')}
                  </Button>
                )}
              </Alert.Root>
            </Box>
          ))}
        </Stack>
      )}
    </Stack>
  );
}

export { AlertsPage as Component };
