import { describe, expect, it } from 'vitest';
import {
  addMonths,
  extendedExpiry,
  isValidExpiry,
  licenceTone,
  unlicensedShops,
} from '@/features/admin-licences/licence-rules';

describe('licenceTone', () => {
  it('names expired, last day, the 14-day warning and ok', () => {
    expect(licenceTone(-1)).toBe('expired');
    expect(licenceTone(0)).toBe('lastDay');
    expect(licenceTone(1)).toBe('soon');
    expect(licenceTone(14)).toBe('soon');
    expect(licenceTone(15)).toBe('ok');
  });
});

describe('extendedExpiry', () => {
  it('adds a year to a running licence, from its end', () => {
    expect(extendedExpiry('2027-03-10', '2026-12-01')).toBe('2028-03-10');
  });
  it('counts from today for an expired or absent licence', () => {
    expect(extendedExpiry('2026-11-01', '2026-12-01')).toBe('2027-11-30');
    expect(extendedExpiry(null, '2026-12-01', 1)).toBe('2026-12-30');
  });
  it('clamps to the end of a shorter month', () => {
    expect(addMonths('2027-01-31', 1)).toBe('2027-02-28');
    expect(addMonths('2028-01-31', 1)).toBe('2028-02-29');
    expect(addMonths('2026-12-15', 1)).toBe('2027-01-15');
  });
});

describe('isValidExpiry', () => {
  it('accepts real days from today on', () => {
    expect(isValidExpiry('2026-12-01', '2026-12-01')).toBe(true);
    expect(isValidExpiry('2027-02-28', '2026-12-01')).toBe(true);
  });
  it('refuses past days, impossible days and other shapes', () => {
    expect(isValidExpiry('2026-11-30', '2026-12-01')).toBe(false);
    expect(isValidExpiry('2027-02-30', '2026-12-01')).toBe(false);
    expect(isValidExpiry('1/2/2027', '2026-12-01')).toBe(false);
  });
});

describe('unlicensedShops', () => {
  it('lists shops with a handle the whitelist does not name', () => {
    const shops = [
      { ig_handle: 'layla.boutique', status: 'active' },
      { ig_handle: 'Other.Shop', status: 'active' },
      { ig_handle: null, status: 'active' },
    ];
    expect(unlicensedShops(shops, ['other.shop'])).toEqual([{ ig_handle: 'layla.boutique', status: 'active' }]);
  });
});
