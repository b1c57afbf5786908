// The catalog's requests: items (paged for the grid), single and bulk changes, categories for
// the category column and filter, CSV import (preview, commit) and export.
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { $api, client } from '@/lib/api-client';
import type { components } from '@/lib/api/schema';
import { downloadFile } from '@/lib/download';

export type CatalogItem = components['schemas']['CatalogItem'];
export type ItemPatch = components['schemas']['ItemPatch'];
export type ItemInput = components['schemas']['ItemInput'];
export type BulkChange = components['schemas']['BulkChange'];
export type ImportPreview = components['schemas']['Preview'];
export type CommitReport = components['schemas']['CommitReport'];

export const ITEMS_KEY = ['get', '/api/v1/catalog/items'] as const;
const CATEGORIES_KEY = ['get', '/api/v1/catalog/categories'] as const;

export const useCatalogCategories = () => $api.useQuery('get', '/api/v1/catalog/categories');

export type ItemsQuery = { search?: string; category_id?: string; page: number; per_page: number };

/** One page of items for the grid's datasource (the grid keeps its own block cache). */
export async function fetchItemsPage(query: ItemsQuery, signal?: AbortSignal) {
  const { data } = await client.GET('/api/v1/catalog/items', {
    params: { query: { ...query, search: query.search || undefined, category_id: query.category_id || undefined } },
    signal,
  });
  return data!;
}

export async function patchItem(id: string, patch: ItemPatch): Promise<CatalogItem> {
  const { data } = await client.PATCH('/api/v1/catalog/items/{id}', {
    params: { path: { id } },
    body: patch,
  });
  return data!;
}

export function useCreateItem() {
  const qc = useQueryClient();
  return $api.useMutation('post', '/api/v1/catalog/items', {
    meta: { quiet: true },
    onSuccess: () => qc.invalidateQueries({ queryKey: CATEGORIES_KEY }),
  });
}

export function useBulkChange() {
  const qc = useQueryClient();
  return $api.useMutation('post', '/api/v1/catalog/items/bulk', {
    meta: { quiet: true },
    onSuccess: () => qc.invalidateQueries({ queryKey: CATEGORIES_KEY }),
  });
}

export function useDeleteItems() {
  const qc = useQueryClient();
  return useMutation({
    meta: { quiet: true },
    mutationFn: async (ids: string[]) => {
      for (const id of ids) {
        await client.DELETE('/api/v1/catalog/items/{id}', { params: { path: { id } } });
      }
    },
    onSettled: () => qc.invalidateQueries({ queryKey: CATEGORIES_KEY }),
  });
}

type ImportOptions = { file: File; mapping?: string; createMissingCategories: boolean };
/** What commit does with rows that have problems: import the rest (and list them), or nothing. */
export type ImportMode = 'valid_rows' | 'all_or_nothing';

/** The file is sent as it is (its bytes, not re-encoded), as text/csv. */
const csvBody = (file: File) => ({
  body: file as unknown as string,
  bodySerializer: (body: unknown) => body as BodyInit,
  headers: { 'Content-Type': 'text/csv' },
});

export function usePreviewImport() {
  return useMutation({
    meta: { quiet: true },
    mutationFn: async ({ file, mapping, createMissingCategories }: ImportOptions) => {
      const { data } = await client.POST('/api/v1/catalog/import/preview', {
        params: { query: { mapping, create_missing_categories: createMissingCategories } },
        ...csvBody(file),
      });
      return data!;
    },
  });
}

export function useCommitImport() {
  const qc = useQueryClient();
  return useMutation({
    meta: { quiet: true },
    mutationFn: async ({ file, mapping, createMissingCategories, mode }: ImportOptions & { mode: ImportMode }) => {
      const { data } = await client.POST('/api/v1/catalog/import/commit', {
        params: { query: { mapping, create_missing_categories: createMissingCategories, mode } },
        ...csvBody(file),
      });
      return data!;
    },
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: ITEMS_KEY });
      void qc.invalidateQueries({ queryKey: CATEGORIES_KEY });
      void qc.invalidateQueries({ queryKey: ['get', '/api/v1/onboarding'] });
    },
  });
}

export const exportCatalog = () =>
  downloadFile(() => client.GET('/api/v1/catalog/export.csv', { parseAs: 'blob' }), 'catalog.csv');
