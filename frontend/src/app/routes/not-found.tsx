import { Button } from '@chakra-ui/react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { EmptyState } from '@/components/empty-state';
import { paths } from '@/config/paths';

export function NotFoundPage() {
  const { t } = useTranslation();
  return (
    <EmptyState
      title={t('notFound.title')}
      description={t('notFound.body')}
      action={
        <Button asChild>
          <Link to={paths.overview.getHref()}>{t('notFound.home')}</Link>
        </Button>
      }
    />
  );
}

export { NotFoundPage as Component };
