// The catalog tab: search and category filter, the grid (inline edit, selection), add, bulk
// change, delete with confirmation, CSV import (preview → mapping → commit) and export.
import { Box, Button, Card, Field, Flex, HStack, Input, NativeSelect, Stack, Text } from '@chakra-ui/react';
import { useQueryClient } from '@tanstack/react-query';
import { useCallback, useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { LuDownload, LuPackage, LuPencil, LuPlus, LuTrash2, LuUpload } from 'react-icons/lu';
import { ConfirmDialog } from '@/components/confirm-dialog';
import { EmptyState } from '@/components/empty-state';
import { ErrorAlert } from '@/components/error-alert';
import { LoadingSkeleton } from '@/components/loading-skeleton';
import { PageHeader } from '@/components/page-header';
import { toaster } from '@/components/toaster';
import { $api, errorMessage } from '@/lib/api-client';
import { formatNumber } from '@/lib/format';
import { useLanguage } from '@/lib/i18n';
import {
  exportCatalog,
  ITEMS_KEY,
  useCatalogCategories,
  useDeleteItems,
  type CatalogItem,
} from '@/features/catalog/api/catalog';
import { CatalogGrid, type CatalogGridHandle, type GridLineError } from '@/features/catalog/components/catalog-grid';
import { CsvImport } from '@/features/catalog/components/csv-import';
import { AddItemDialog, BulkEditDialog } from '@/features/catalog/components/item-dialogs';

function useDebounced<T>(value: T, ms: number): T {
  const [debounced, setDebounced] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setDebounced(value), ms);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return debounced;
}

export function CatalogPage() {
  const { t } = useTranslation('catalog');
  const language = useLanguage();
  const qc = useQueryClient();
  const grid = useRef<CatalogGridHandle>(null);
  const [searchInput, setSearchInput] = useState('');
  const search = useDebounced(searchInput.trim(), 300);
  const [categoryId, setCategoryId] = useState('');
  const [selected, setSelected] = useState<CatalogItem[]>([]);
  const [toDelete, setToDelete] = useState<CatalogItem[] | null>(null);
  const [adding, setAdding] = useState(false);
  const [bulkOpen, setBulkOpen] = useState(false);
  const [importOpen, setImportOpen] = useState(false);
  const [lineError, setLineError] = useState<GridLineError | null>(null);
  const [exporting, setExporting] = useState(false);

  const categories = useCatalogCategories();
  const count = $api.useQuery('get', '/api/v1/catalog/items', {
    params: { query: { search: search || undefined, category_id: categoryId || undefined, per_page: 1 } },
  });
  const deleting = useDeleteItems();
  const total = count.data?.total;
  const filtered = Boolean(search || categoryId);

  const changed = useCallback(() => {
    void qc.invalidateQueries({ queryKey: ITEMS_KEY });
    grid.current?.refresh();
  }, [qc]);
  const onLineError = useCallback((error: GridLineError | null) => setLineError(error), []);
  const onDelete = useCallback((item: CatalogItem) => setToDelete([item]), []);

  const doExport = () => {
    setExporting(true);
    exportCatalog()
      .catch((error: unknown) => toaster.create({ type: 'error', description: errorMessage(error) }))
      .finally(() => setExporting(false));
  };

  const categoryList = categories.data ?? [];

  return (
    <Box>
      <PageHeader
        title={t('title')}
        description={total !== undefined && !filtered ? t('count', { count: total, n: formatNumber(total, language) }) : t('description')}
        actions={
          <>
            <Button colorPalette="blue" onClick={() => setAdding(true)}>
              <LuPlus aria-hidden /> {t('add.open')}
            </Button>
            <Button variant="outline" onClick={() => setImportOpen((o) => !o)} aria-expanded={importOpen}>
              <LuUpload aria-hidden /> {t('import.open')}
            </Button>
            <Button variant="outline" onClick={doExport} loading={exporting} disabled={total === 0 && !filtered}>
              <LuDownload aria-hidden /> {t('export')}
            </Button>
          </>
        }
      />

      {importOpen && (
        <Card.Root mb="6" variant="outline">
          <Card.Header>
            <Card.Title as="h2">{t('import.title')}</Card.Title>
            <Card.Description>{t('import.description')}</Card.Description>
          </Card.Header>
          <Card.Body>
            <CsvImport onCommitted={changed} />
          </Card.Body>
        </Card.Root>
      )}

      <Flex gap="3" mb="4" direction={{ base: 'column', md: 'row' }} align={{ md: 'flex-end' }}>
        <Field.Root flex="2">
          <Field.Label>{t('search')}</Field.Label>
          <Input type="search" value={searchInput} onChange={(e) => setSearchInput(e.target.value)} placeholder={t('searchPlaceholder')} />
        </Field.Root>
        <Field.Root flex="1">
          <Field.Label>{t('filterCategory')}</Field.Label>
          <NativeSelect.Root>
            <NativeSelect.Field value={categoryId} onChange={(e) => setCategoryId(e.target.value)}>
              <option value="">{t('allCategories')}</option>
              {categoryList.map((c) => (
                <option key={c.id} value={c.id}>
                  {c.name} ({formatNumber(c.item_count, language)})
                </option>
              ))}
            </NativeSelect.Field>
            <NativeSelect.Indicator />
          </NativeSelect.Root>
        </Field.Root>
      </Flex>

      {selected.length > 0 && (
        <HStack mb="3" gap="2" wrap="wrap" role="toolbar" aria-label={t('selection', { count: selected.length })}>
          <Text fontWeight="medium">{t('selection', { count: selected.length, n: formatNumber(selected.length, language) })}</Text>
          <Button size="sm" variant="outline" onClick={() => setBulkOpen(true)}>
            <LuPencil aria-hidden /> {t('bulk.open')}
          </Button>
          <Button size="sm" variant="outline" colorPalette="red" onClick={() => setToDelete(selected)}>
            <LuTrash2 aria-hidden /> {t('deleteSelected')}
          </Button>
        </HStack>
      )}

      {lineError && (
        <Box mb="3">
          <ErrorAlert
            error={new Error(lineError.sku ? t('lineError', lineError) : lineError.message)}
            title={t('notSaved')}
            onRetry={lineError.sku ? undefined : changed}
          />
        </Box>
      )}

      {count.isPending ? (
        <LoadingSkeleton rows={6} />
      ) : count.isError ? (
        <ErrorAlert error={count.error} onRetry={() => void count.refetch()} />
      ) : total === 0 && !filtered ? (
        <EmptyState
          icon={<LuPackage />}
          title={t('empty.title')}
          description={t('empty.description')}
          action={
            <HStack>
              <Button colorPalette="blue" onClick={() => setAdding(true)}>
                {t('add.open')}
              </Button>
              <Button variant="outline" onClick={() => setImportOpen(true)}>
                {t('import.open')}
              </Button>
            </HStack>
          }
        />
      ) : (
        <Stack gap="2">
          {total === 0 && (
            <Text role="status" color="fg.muted">
              {t('noMatch')}
            </Text>
          )}
          <CatalogGrid
            ref={grid}
            search={search}
            categoryId={categoryId}
            categories={categoryList}
            onSelectionChange={setSelected}
            onDelete={onDelete}
            onLineError={onLineError}
          />
          <Text textStyle="xs" color="fg.muted">
            {t('keyboardHint')}
          </Text>
        </Stack>
      )}

      <AddItemDialog open={adding} onOpenChange={setAdding} categories={categoryList} onAdded={changed} />
      <BulkEditDialog
        open={bulkOpen}
        onOpenChange={setBulkOpen}
        items={selected}
        categories={categoryList}
        onSaved={() => {
          grid.current?.clearSelection();
          changed();
        }}
      />
      <ConfirmDialog
        open={toDelete !== null}
        onOpenChange={(open) => {
          if (!open) {
            setToDelete(null);
            deleting.reset();
          }
        }}
        title={
          toDelete?.length === 1
            ? t('delete.titleOne', { name: toDelete[0]!.name })
            : t('delete.titleMany', { count: toDelete?.length ?? 0 })
        }
        body={t('delete.body')}
        confirmLabel={t('delete.confirm')}
        pending={deleting.isPending}
        error={deleting.isError ? errorMessage(deleting.error) : null}
        onConfirm={() =>
          toDelete &&
          deleting.mutate(
            toDelete.map((item) => item.id),
            {
              onSettled: () => {
                grid.current?.clearSelection();
                changed();
              },
              onSuccess: () => setToDelete(null),
            },
          )
        }
      />
    </Box>
  );
}

export { CatalogPage as Component };
