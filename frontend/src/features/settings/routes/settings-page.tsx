import { Stack } from '@chakra-ui/react';
import { useTranslation } from 'react-i18next';
import { PageHeader } from '@/components/page-header';
import { DeliveryHook } from '@/features/settings/components/delivery-hook';
import { InstagramConnection } from '@/features/settings/components/instagram-connection';
import { ModelSettings } from '@/features/settings/components/model-settings';
import { DeleteShop, ExportData } from '@/features/settings/components/my-data';

export function SettingsPage() {
  const { t } = useTranslation('settings');
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
