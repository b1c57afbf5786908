// WORK IN PROGRESS — placeholder route module created by the app shell so the route, the
// navigation and lazy loading exist. The "web-data" helper replaces this file with the real
// profile screen. Not a product screen: it shows no data.
import { PageHeader } from '@/components/page-header';
import { useTranslation } from 'react-i18next';

export function ProfilePage() {
  const { t } = useTranslation();
  return <PageHeader title={t('nav.profile')} />;
}

export { ProfilePage as Component };
