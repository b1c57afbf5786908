// The overview tab composes features: the figures and chart (dashboard) and the open alerts,
// with a nudge to finish setup while the shop is not live.
import { Alert, Box, Button, ButtonGroup, Skeleton, Stack } from '@chakra-ui/react';
import { lazy, Suspense, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { LuActivity } from 'react-icons/lu';
import { Link } from 'react-router';
import { EmptyState } from '@/components/empty-state';
import { ErrorAlert } from '@/components/error-alert';
import { LoadingSkeleton } from '@/components/loading-skeleton';
import { PageHeader } from '@/components/page-header';
import { paths } from '@/config/paths';
import { AlertsPanel } from '@/features/alerts/components/alerts-panel';
import { DASHBOARD_RANGES, type DashboardRange, useDashboard } from '@/features/dashboard/api/get-dashboard';
import { Figures } from '@/features/dashboard/components/figures';
import { $api } from '@/lib/api-client';

// The chart library (recharts) is most of this tab's code: the figures show without waiting for it.
const DailyChart = lazy(() =>
  import('@/features/dashboard/components/daily-chart').then((module) => ({ default: module.DailyChart })),
);

function SetupNudge() {
  const { t } = useTranslation('dashboard');
  const onboarding = $api.useQuery('get', '/api/v1/onboarding');
  if (!onboarding.data || onboarding.data.live) return null;
  return (
    <Alert.Root status="warning" data-testid="setup-nudge">
      <Alert.Indicator />
      <Alert.Content>
        <Alert.Title>{t('setup.title')}</Alert.Title>
        <Alert.Description>{t('setup.body')}</Alert.Description>
      </Alert.Content>
      <Button asChild size="sm" alignSelf="center" colorPalette="gray">
        <Link to={paths.onboarding.getHref()}>{t('setup.action')}</Link>
      </Button>
    </Alert.Root>
  );
}

export function OverviewPage() {
  const { t } = useTranslation('dashboard');
  const [range, setRange] = useState<DashboardRange>('7d');
  const dashboard = useDashboard(range);
  const overview = dashboard.data;
  const quiet =
    overview && overview.conversations === 0 && overview.messages_in === 0 && overview.orders.total === 0;

  return (
    <Stack gap="6">
      <PageHeader
        title={t('title')}
        description={t('subtitle')}
        actions={
          <ButtonGroup size="sm" variant="outline" attached role="group" aria-label={t('range.label')}>
            {DASHBOARD_RANGES.map((value) => (
              <Button
                key={value}
                aria-pressed={range === value}
                variant={range === value ? 'solid' : 'outline'}
                onClick={() => setRange(value)}
              >
                {t(`range.${value}`)}
              </Button>
            ))}
          </ButtonGroup>
        }
      />
      <SetupNudge />
      <AlertsPanel />
      {dashboard.isPending ? (
        <LoadingSkeleton rows={3} />
      ) : dashboard.isError ? (
        <ErrorAlert error={dashboard.error} onRetry={() => void dashboard.refetch()} />
      ) : (
        <>
          <Figures overview={dashboard.data} />
          {quiet ? (
            <Box borderWidth="1px" rounded="lg" bg="bg">
              <EmptyState icon={<LuActivity />} title={t('quiet.title')} description={t('quiet.body')} />
            </Box>
          ) : (
            range !== 'today' && (
              <Suspense fallback={<Skeleton h="72" rounded="lg" />}>
                <DailyChart overview={dashboard.data} />
              </Suspense>
            )
          )}
        </>
      )}
    </Stack>
  );
}

export { OverviewPage as Component };
