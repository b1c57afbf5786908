// Export everything of the shop as one file, and delete the shop (typed confirmation).
import { Button, Stack, Text } from '@chakra-ui/react';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { LuDownload, LuTrash2 } from 'react-icons/lu';
import { useNavigate } from 'react-router';
import { ConfirmDialog } from '@/components/confirm-dialog';
import { ErrorAlert } from '@/components/error-alert';
import { toaster } from '@/components/toaster';
import { paths } from '@/config/paths';
import { useDeleteShop, useExportShop } from '@/features/settings/api/settings';
import { SettingsSection } from '@/features/settings/components/settings-section';
import { errorMessage, isApiError } from '@/lib/api-client';
import { useMe } from '@/lib/auth';

export function ExportData() {
  const { t } = useTranslation('settings');
  const exportShop = useExportShop();
  return (
    <SettingsSection id="export" title={t('export.title')} description={t('export.description')}>
      <Stack gap="3" align="flex-start">
        <Button
          variant="outline"
          loading={exportShop.isPending}
          loadingText={t('export.preparing')}
          onClick={() =>
            exportShop.mutate(undefined, {
              onSuccess: (name) => toaster.create({ type: 'success', description: t('export.done', { name }) }),
            })
          }
          data-testid="export-shop"
        >
          <LuDownload aria-hidden />
          {t('export.action')}
        </Button>
        {exportShop.isError && <ErrorAlert error={exportShop.error} />}
      </Stack>
    </SettingsSection>
  );
}

export function DeleteShop() {
  const { t } = useTranslation('settings');
  const me = useMe();
  const navigate = useNavigate();
  const deleteShop = useDeleteShop();
  const [open, setOpen] = useState(false);
  const handle = me.data?.tenant.ig_handle ?? me.data?.tenant.display_name ?? '';
  const confirmProblem = isApiError(deleteShop.error) ? deleteShop.error.problemFor('confirm') : undefined;

  return (
    <SettingsSection id="delete" title={t('delete.title')} description={t('delete.description')} tone="danger">
      <Stack gap="3" align="flex-start">
        <Text textStyle="sm">{t('delete.whatHappens')}</Text>
        <Button colorPalette="red" variant="outline" onClick={() => setOpen(true)} data-testid="delete-shop">
          <LuTrash2 aria-hidden />
          {t('delete.action')}
        </Button>
      </Stack>
      <ConfirmDialog
        open={open}
        onOpenChange={(next) => {
          setOpen(next);
          if (!next) deleteShop.reset();
        }}
        title={t('delete.confirmTitle')}
        body={t('delete.confirmBody')}
        requireText={handle}
        requireTextLabel={t('delete.typeHandle', { handle })}
        confirmLabel={t('delete.confirm')}
        pending={deleteShop.isPending}
        error={deleteShop.isError ? (confirmProblem ?? errorMessage(deleteShop.error)) : null}
        onConfirm={() =>
          deleteShop.mutate(handle, {
            onSuccess: () => {
              setOpen(false);
              void navigate(paths.signin.getHref(), { replace: true });
              toaster.create({ type: 'success', description: t('delete.done') });
            },
          })
        }
      />
    </SettingsSection>
  );
}
