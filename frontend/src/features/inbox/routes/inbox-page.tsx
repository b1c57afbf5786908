// Being built by the app shell helper ("web-shell").
import { PageHeader } from '@/components/page-header';
import { useTranslation } from 'react-i18next';

export function InboxPage() {
  const { t } = useTranslation();
  return <PageHeader title={t('nav.inbox')} />;
}

export { InboxPage as Component };
