import { describe, expect, it } from 'vitest';
import {
  assignColumn,
  isChanged,
  mappingFromColumns,
  mappingParam,
  missingFields,
} from './csv-mapping';

const detected = [
  { header: 'SKU', field: 'sku' as const },
  { header: 'الاسم', field: 'name' as const },
  { header: 'Price', field: 'price' as const },
  { header: 'Colour', field: null },
];

describe('CSV column mapping', () => {
  it('starts from what the API detected, unknown headers kept as attributes', () => {
    expect(mappingFromColumns(detected)).toEqual({
      SKU: 'sku',
      الاسم: 'name',
      Price: 'price',
      Colour: null,
    });
  });

  it('moving a field to another header frees the header that had it', () => {
    const mapping = assignColumn(mappingFromColumns(detected), 'Colour', 'name');
    expect(mapping).toEqual({ SKU: 'sku', الاسم: null, Price: 'price', Colour: 'name' });
  });

  it('several headers may stay attributes', () => {
    const mapping = assignColumn(mappingFromColumns(detected), 'SKU', 'attributes');
    expect(mapping.SKU).toBe('attributes');
    expect(mapping.Colour).toBeNull();
    expect(missingFields(mapping)).toEqual(['sku']);
  });

  it('names the required fields nothing feeds', () => {
    expect(missingFields(mappingFromColumns(detected))).toEqual([]);
    expect(missingFields({ A: 'sku', B: null })).toEqual(['name', 'price']);
  });

  it('sends ?mapping= only when the merchant changed the guess', () => {
    const guessed = mappingFromColumns(detected);
    expect(isChanged(guessed, detected)).toBe(false);
    expect(mappingParam(guessed, detected)).toBeUndefined();
    const changed = assignColumn(guessed, 'Colour', 'description');
    expect(JSON.parse(mappingParam(changed, detected)!)).toEqual({
      SKU: 'sku',
      الاسم: 'name',
      Price: 'price',
      Colour: 'description',
    });
    expect(mappingParam(null, detected)).toBeUndefined();
  });
});
