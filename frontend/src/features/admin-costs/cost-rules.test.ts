import { describe, expect, it } from 'vitest';
import {
  OTHERS,
  budgetPercent,
  budgetTone,
  costSeries,
  daysOf,
  parseBudget,
  shopTotals,
} from '@/features/admin-costs/cost-rules';

const day = (d: string, tenant: string, cost: string) => ({ day: d, tenant_id: tenant, ig_handle: tenant, cost_usd: cost });

describe('costSeries', () => {
  it('has a row for every day of the range, zero where nothing was spent', () => {
    const series = costSeries([day('2026-12-02', 'a', '0.5')], '2026-12-01', '2026-12-03');
    expect(series.rows.map((r) => r.day)).toEqual(['2026-12-01', '2026-12-02', '2026-12-03']);
    expect(series.rows.map((r) => r.a)).toEqual([0, 0.5, 0]);
    expect(series.shops).toEqual([{ key: 'a', label: '@a' }]);
  });

  it('keeps the costliest shops and sums the rest as others', () => {
    const rows = [day('2026-12-01', 'a', '3'), day('2026-12-01', 'b', '2'), day('2026-12-01', 'c', '1'), day('2026-12-02', 'c', '0.25')];
    const series = costSeries(rows, '2026-12-01', '2026-12-02', 1);
    expect(series.shops.map((s) => s.key)).toEqual(['a', OTHERS]);
    expect(series.rows[0]).toEqual({ day: '2026-12-01', a: 3, [OTHERS]: 3 });
    expect(series.rows[1]).toEqual({ day: '2026-12-02', a: 0, [OTHERS]: 0.25 });
  });

  it('crosses month ends', () => {
    expect(daysOf('2027-02-27', '2027-03-01')).toEqual(['2027-02-27', '2027-02-28', '2027-03-01']);
  });
});

describe('shopTotals', () => {
  it('sums each shop over the range, costliest first', () => {
    expect(shopTotals([day('2026-12-01', 'a', '0.1'), day('2026-12-02', 'b', '0.3'), day('2026-12-03', 'a', '0.1')]).map((s) => [s.tenant_id, s.cost.toFixed(2)])).toEqual([
      ['b', '0.30'],
      ['a', '0.20'],
    ]);
  });
});

describe('budget', () => {
  it('warns at 80 % and is reached at 100 %', () => {
    expect(budgetTone(79)).toBe('ok');
    expect(budgetTone(80)).toBe('warning');
    expect(budgetTone(99)).toBe('warning');
    expect(budgetTone(100)).toBe('reached');
    expect(budgetTone(250)).toBe('reached');
  });

  it('truncates the percent like the server', () => {
    expect(budgetPercent('39.999', '50')).toBe(79);
    expect(budgetPercent('40', '50')).toBe(80);
    expect(budgetPercent('0.7', '0.7')).toBe(100);
    expect(budgetPercent('5', '0')).toBe(0);
  });

  it('accepts positive dollar amounts only', () => {
    expect(parseBudget(' 50 ')).toBe('50');
    expect(parseBudget('$12.50')).toBe('12.50');
    expect(parseBudget('0')).toBeNull();
    expect(parseBudget('12.345')).toBeNull();
    expect(parseBudget('-3')).toBeNull();
    expect(parseBudget('fifty')).toBeNull();
  });
});
