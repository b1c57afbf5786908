// The console's first screen: a tile per shop, sorted by name, cost this month or problems
// (in the URL: ?sort=), and disabling / enabling a shop after a confirmation.
import { NativeSelect, SimpleGrid, Stack, Field, Box } from '@chakra-ui/react';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { LuStore } from 'react-icons/lu';
import { useSearchParams } from 'react-router';
import { ConfirmDialog } from '@/components/confirm-dialog';
import { EmptyState } from '@/components/empty-state';
import { ErrorAlert } from '@/components/error-alert';
import { LoadingSkeleton } from '@/components/loading-skeleton';
import { PageHeader } from '@/components/page-header';
import {
  TILE_SORTS,
  type TenantTile,
  type TileSort,
  useSetShopEnabled,
  useTenantTiles,
} from '@/features/admin-tenants/api/tenants';
import { TenantCard } from '@/features/admin-tenants/components/tenant-card';
import { errorMessage } from '@/lib/api-client';

export function TenantsPage() {
  const { t } = useTranslation('admin');
  const [params, setParams] = useSearchParams();
  const raw = params.get('sort');
  const sort: TileSort = TILE_SORTS.includes(raw as TileSort) ? (raw as TileSort) : 'name';
  const tiles = useTenantTiles(sort);
  const toggle = useSetShopEnabled();
  const [confirming, setConfirming] = useState<TenantTile | null>(null);
  const name = confirming ? (confirming.ig_handle ? `@${confirming.ig_handle}` : (confirming.display_name ?? '')) : '';
  const enabling = confirming?.status === 'disabled';

  return (
    <Stack gap="4">
      <PageHeader
        title={t('tenants.title')}
        description={t('tenants.description')}
        actions={
          <Field.Root orientation="horizontal" gap="2" w="auto">
            <Field.Label whiteSpace="nowrap" mb="0">
              {t('tenants.sort')}
            </Field.Label>
            <NativeSelect.Root size="sm" w="44">
              <NativeSelect.Field
                value={sort}
                onChange={(event) => setParams(event.target.value === 'name' ? {} : { sort: event.target.value }, { replace: true })}
              >
                {TILE_SORTS.map((s) => (
                  <option key={s} value={s}>
                    {t(`tenants.sortBy.${s}`)}
                  </option>
                ))}
              </NativeSelect.Field>
              <NativeSelect.Indicator />
            </NativeSelect.Root>
          </Field.Root>
        }
      />
      {tiles.isPending ? (
        <LoadingSkeleton />
      ) : tiles.isError ? (
        <ErrorAlert error={tiles.error} onRetry={() => void tiles.refetch()} />
      ) : tiles.data.tenants.length === 0 ? (
        <Box borderWidth="1px" rounded="lg" bg="bg">
          <EmptyState icon={<LuStore />} title={t('tenants.emptyTitle')} description={t('tenants.empty')} />
        </Box>
      ) : (
        <SimpleGrid columns={{ base: 1, lg: 2, '2xl': 3 }} gap="4" data-testid="tenant-tiles">
          {tiles.data.tenants.map((tile) => (
            <TenantCard
              key={tile.id}
              tile={tile}
              onToggle={(chosen) => {
                toggle.reset();
                setConfirming(chosen);
              }}
            />
          ))}
        </SimpleGrid>
      )}
      <ConfirmDialog
        open={confirming !== null}
        onOpenChange={(open) => !open && setConfirming(null)}
        title={enabling ? t('tenants.enableTitle', { name }) : t('tenants.disableTitle', { name })}
        body={enabling ? t('tenants.enableBody') : t('tenants.disableBody')}
        confirmLabel={enabling ? t('tenants.enable') : t('tenants.disable')}
        destructive={!enabling}
        pending={toggle.isPending}
        error={toggle.isError ? errorMessage(toggle.error) : null}
        onConfirm={() =>
          confirming &&
          toggle.mutate({ id: confirming.id, enable: enabling }, { onSuccess: () => setConfirming(null) })
        }
      />
    </Stack>
  );
}

export { TenantsPage as Component };
