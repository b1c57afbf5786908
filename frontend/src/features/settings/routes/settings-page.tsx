import { Stack } from '@chakra-ui/react';
import { useEffect } from 'react';
import { useTranslation } from 'react-i18next';
import { useLocation } from 'react-router';
import { PageHeader } from '@/components/page-header';
import { DeliveryHook } from '@/features/settings/components/delivery-hook';
import { InstagramConnection } from '@/features/settings/components/instagram-connection';
import { ModelSettings } from '@/features/settings/components/model-settings';
import { DeleteShop, ExportData } from '@/features/settings/components/my-data';

export function SettingsPage() {
  const { t } = useTranslation('settings');
  const { hash } = useLocation();

  // Alerts link to a section (#instagram, #model, #delivery-hook).
  useEffect(() => {
    if (hash) document.getElementById(hash.slice(1))?.scrollIntoView({ block: 'start' });
  }, [hash]);
  return (
    <Stack gap="5" maxW="4xl">
      <PageHeader title={t('title')} description={t('subtitle')} />
      <InstagramConnection />
      <DeliveryHook />
      <ModelSettings />
      <ExportData />
      <DeleteShop />
    </Stack>
  );
}

export { SettingsPage as Component };
