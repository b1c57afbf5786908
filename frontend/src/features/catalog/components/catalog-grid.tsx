// The catalog grid: AG Grid Community with the infinite row model, so 10,000 items scroll
// smoothly while only the blocks in view are fetched (pages of 100 through the list endpoint).
// Cells edit in place (PATCH one field); a refused change is put back and its message shown
// at the line. Only the modules used here are registered, and this file loads with the tab.
import { Box, IconButton } from '@chakra-ui/react';
import {
  CellStyleModule,
  CheckboxEditorModule,
  ColumnAutoSizeModule,
  InfiniteRowModelModule,
  LocaleModule,
  NumberEditorModule,
  RowSelectionModule,
  SelectEditorModule,
  TextEditorModule,
  ValidationModule,
  themeQuartz,
  type CellValueChangedEvent,
  type ColDef,
  type GridApi,
  type IDatasource,
  type ICellRendererParams,
  type Module,
} from 'ag-grid-community';
import { AG_GRID_LOCALE_EG } from '@ag-grid-community/locale';
import { AgGridReact } from 'ag-grid-react';
import { forwardRef, useCallback, useImperativeHandle, useMemo, useRef } from 'react';
import { useTranslation } from 'react-i18next';
import { LuTrash2 } from 'react-icons/lu';
import { errorMessage } from '@/lib/api-client';
import { formatMoney, formatNumber } from '@/lib/format';
import { useLanguage } from '@/lib/i18n';
import { fetchItemsPage, patchItem, type CatalogItem, type ItemPatch } from '@/features/catalog/api/catalog';

const modules: Module[] = [
  InfiniteRowModelModule,
  TextEditorModule,
  NumberEditorModule,
  SelectEditorModule,
  CheckboxEditorModule,
  RowSelectionModule,
  CellStyleModule,
  ColumnAutoSizeModule,
  LocaleModule,
  ...(import.meta.env.DEV ? [ValidationModule] : []),
];

const BLOCK = 100;

const theme = themeQuartz.withParams({
  fontFamily: 'inherit',
  headerFontWeight: 600,
  rowHeight: 44,
  headerHeight: 44,
});

export type GridLineError = { sku: string; column: string; message: string };

export type CatalogGridHandle = { refresh: () => void; clearSelection: () => void };

type Category = { id: string; name: string };

export const CatalogGrid = forwardRef<
  CatalogGridHandle,
  {
    search: string;
    categoryId: string;
    categories: Category[];
    onSelectionChange: (items: CatalogItem[]) => void;
    onDelete: (item: CatalogItem) => void;
    onLineError: (error: GridLineError | null) => void;
  }
>(function CatalogGrid({ search, categoryId, categories, onSelectionChange, onDelete, onLineError }, ref) {
  const { t } = useTranslation('catalog');
  const language = useLanguage();
  const api = useRef<GridApi<CatalogItem> | null>(null);

  useImperativeHandle(ref, () => ({
    refresh: () => api.current?.refreshInfiniteCache(),
    clearSelection: () => api.current?.deselectAll(),
  }));

  const datasource = useMemo<IDatasource>(
    () => ({
      getRows: (params) => {
        const page = Math.floor(params.startRow / BLOCK) + 1;
        fetchItemsPage({ search, category_id: categoryId, page, per_page: BLOCK }).then(
          (answer) => params.successCallback(answer.items, answer.total),
          (error: unknown) => {
            onLineError({ sku: '', column: '', message: errorMessage(error) });
            params.failCallback();
          },
        );
      },
    }),
    [search, categoryId, onLineError],
  );

  const columns = useMemo<ColDef<CatalogItem>[]>(
    () => [
      {
        field: 'sku',
        headerName: t('fields.sku'),
        editable: true,
        minWidth: 120,
        cellStyle: { direction: 'ltr', textAlign: language === 'ar' ? 'right' : 'left' },
      },
      { field: 'name', headerName: t('fields.name'), editable: true, flex: 2, minWidth: 180 },
      {
        field: 'category_id',
        headerName: t('fields.category'),
        editable: true,
        minWidth: 140,
        flex: 1,
        cellEditor: 'agSelectCellEditor',
        cellEditorParams: { values: ['', ...categories.map((c) => c.id)] },
        valueGetter: (p) => p.data?.category_id ?? '',
        refData: Object.fromEntries([['', t('noCategory')], ...categories.map((c) => [c.id, c.name])]),
      },
      {
        field: 'price_jod',
        colId: 'price_jod',
        headerName: t('fields.priceJod'),
        editable: true,
        minWidth: 130,
        type: 'rightAligned',
        valueFormatter: (p) => (p.value ? formatMoney(p.value as string, language) : ''),
        valueParser: (p) => String(p.newValue ?? '').trim(),
      },
      {
        field: 'stock',
        headerName: t('fields.stock'),
        editable: true,
        minWidth: 100,
        type: 'rightAligned',
        cellEditor: 'agNumberCellEditor',
        cellEditorParams: { min: 0, precision: 0 },
        valueFormatter: (p) => (typeof p.value === 'number' ? formatNumber(p.value, language) : ''),
      },
      {
        field: 'is_active',
        headerName: t('fields.active'),
        editable: true,
        minWidth: 100,
        cellEditor: 'agCheckboxCellEditor',
        valueFormatter: (p) => (p.value === undefined ? '' : p.value ? t('yes') : t('no')),
      },
      {
        colId: 'actions',
        headerName: t('actionsColumn'),
        minWidth: 80,
        maxWidth: 90,
        sortable: false,
        cellRenderer: (p: ICellRendererParams<CatalogItem>) =>
          p.data ? (
            <IconButton
              size="xs"
              variant="ghost"
              colorPalette="red"
              aria-label={t('deleteItem', { name: p.data.name })}
              onClick={() => p.data && onDelete(p.data)}
            >
              <LuTrash2 />
            </IconButton>
          ) : null,
      },
    ],
    [t, language, categories, onDelete],
  );

  const onCellValueChanged = useCallback(
    (event: CellValueChangedEvent<CatalogItem>) => {
      const field = event.colDef.field as keyof CatalogItem | undefined;
      if (!field || !event.data || event.oldValue === event.newValue) return;
      const before = { ...event.data, [field]: event.oldValue } as CatalogItem;
      const value = field === 'category_id' ? (event.newValue || null) : event.newValue;
      const patch = { [field]: value } as ItemPatch;
      onLineError(null);
      patchItem(event.data.id, patch).then(
        (saved) => event.node.setData(saved),
        (error: unknown) => {
          event.node.setData(before);
          onLineError({
            sku: before.sku,
            column: event.colDef.headerName ?? field,
            message: errorMessage(error),
          });
        },
      );
    },
    [onLineError],
  );

  return (
    <Box h={{ base: '70vh', md: 'calc(100dvh - 330px)' }} minH="420px" data-testid="catalog-grid">
      <AgGridReact<CatalogItem>
        key={language}
        modules={modules}
        theme={theme}
        enableRtl={language === 'ar'}
        localeText={language === 'ar' ? AG_GRID_LOCALE_EG : undefined}
        rowModelType="infinite"
        datasource={datasource}
        cacheBlockSize={BLOCK}
        maxBlocksInCache={200}
        getRowId={(p) => p.data.id}
        columnDefs={columns}
        defaultColDef={{ resizable: false, sortable: false, suppressHeaderMenuButton: true }}
        rowSelection={{ mode: 'multiRow', checkboxes: true, headerCheckbox: false, enableClickSelection: false }}
        selectionColumnDef={{ headerName: '', headerTooltip: t('select'), minWidth: 56, maxWidth: 56 }}
        onSelectionChanged={(e) => onSelectionChange(e.api.getSelectedRows())}
        onCellValueChanged={onCellValueChanged}
        onCellKeyDown={(e) => {
          const key = (e.event as KeyboardEvent | null)?.key;
          if (key === 'Delete' && e.data && !e.api.getEditingCells().length) onDelete(e.data);
        }}
        singleClickEdit={false}
        stopEditingWhenCellsLoseFocus
        onGridReady={(e) => {
          api.current = e.api;
        }}
        onGridSizeChanged={(e) => {
          if (e.clientWidth > 700) e.api.sizeColumnsToFit();
        }}
      />
    </Box>
  );
});
