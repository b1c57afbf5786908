// Column mapping of a CSV import: which header of the merchant's file feeds which catalog
// field. The API guesses a mapping (`Preview.columns`); the merchant may override it, and the
// override travels as `?mapping={"Header":"field"|null}` on preview and commit.
import type { components } from '@/lib/api/schema';

export type CatalogField = components['schemas']['Field'];
export type DetectedColumn = components['schemas']['ColumnMapping'];
/** Header as written in the file → the field it feeds, or `null` to keep it as an attribute. */
export type ColumnMapping = Record<string, CatalogField | null>;

export const CATALOG_FIELDS: readonly CatalogField[] = [
  'sku',
  'name',
  'description',
  'category',
  'price',
  'stock',
  'image_url',
  'active',
  'attributes',
];

/** Without these a row cannot become a product. */
export const REQUIRED_FIELDS: readonly CatalogField[] = ['sku', 'name', 'price'];

/** The mapping the API detected, as an editable object. */
export function mappingFromColumns(columns: readonly DetectedColumn[]): ColumnMapping {
  const mapping: ColumnMapping = {};
  for (const column of columns) mapping[column.header] = column.field ?? null;
  return mapping;
}

/** One header now feeds `field`; any other header that fed it becomes an attribute. */
export function assignColumn(
  mapping: ColumnMapping,
  header: string,
  field: CatalogField | null,
): ColumnMapping {
  const next: ColumnMapping = {};
  for (const [other, current] of Object.entries(mapping)) {
    if (other === header) next[other] = field;
    else if (field !== null && field !== 'attributes' && current === field) next[other] = null;
    else next[other] = current;
  }
  return next;
}

/** Required fields that no header feeds. */
export function missingFields(mapping: ColumnMapping): CatalogField[] {
  const fed = new Set(Object.values(mapping));
  return REQUIRED_FIELDS.filter((field) => !fed.has(field));
}

/** Whether the merchant changed anything the API guessed. */
export function isChanged(mapping: ColumnMapping, columns: readonly DetectedColumn[]): boolean {
  return columns.some((column) => (column.field ?? null) !== (mapping[column.header] ?? null));
}

/** The `?mapping=` value: only sent when the merchant changed the guess. */
export function mappingParam(
  mapping: ColumnMapping | null,
  columns: readonly DetectedColumn[] | null,
): string | undefined {
  if (!mapping || !columns || !isChanged(mapping, columns)) return undefined;
  return JSON.stringify(mapping);
}
