// What the cost tracker derives from the API's rows: one chart row per day of the range with a
// series per shop (the costliest few, the rest as "others"), totals per shop, and the budget's
// state (warning at 80 %, reached at 100 %, as the server counts).
import { addDays } from '@/lib/format';

export type ShopDayCost = { day: string; tenant_id: string; ig_handle?: string | null; cost_usd: string };

export const OTHERS = 'others';

export type CostSeries = {
  /** Chart series keys, costliest first (`OTHERS` last when there are more shops). */
  shops: { key: string; label: string }[];
  rows: ({ day: string } & Record<string, number | string>)[];
};

/** Every day from `from` to `to` inclusive (at most 366). */
export function daysOf(from: string, to: string): string[] {
  const out: string[] = [];
  for (let day = from; day <= to && out.length < 366; day = addDays(day, 1)) out.push(day);
  return out;
}

/** Cost per shop over the range, costliest first. */
export function shopTotals(days: ShopDayCost[]): { tenant_id: string; label: string; cost: number }[] {
  const totals = new Map<string, { tenant_id: string; label: string; cost: number }>();
  for (const d of days) {
    const entry = totals.get(d.tenant_id) ?? { tenant_id: d.tenant_id, label: d.ig_handle ? `@${d.ig_handle}` : d.tenant_id.slice(0, 8), cost: 0 };
    entry.cost += Number(d.cost_usd) || 0;
    totals.set(d.tenant_id, entry);
  }
  return [...totals.values()].sort((a, b) => b.cost - a.cost || a.label.localeCompare(b.label));
}

export function costSeries(days: ShopDayCost[], from: string, to: string, maxShops = 5): CostSeries {
  const totals = shopTotals(days);
  const shown = totals.slice(0, maxShops);
  const shownIds = new Set(shown.map((s) => s.tenant_id));
  const hasOthers = totals.length > shown.length;
  const shops = shown.map((s) => ({ key: s.tenant_id, label: s.label }));
  if (hasOthers) shops.push({ key: OTHERS, label: OTHERS });
  const byDay = new Map<string, Record<string, number>>();
  for (const d of days) {
    const key = shownIds.has(d.tenant_id) ? d.tenant_id : OTHERS;
    const row = byDay.get(d.day) ?? {};
    row[key] = (row[key] ?? 0) + (Number(d.cost_usd) || 0);
    byDay.set(d.day, row);
  }
  const rows = daysOf(from, to).map((day) => {
    const row: { day: string } & Record<string, number | string> = { day };
    for (const s of shops) row[s.key] = byDay.get(day)?.[s.key] ?? 0;
    return row;
  });
  return { shops, rows };
}

export type BudgetTone = 'ok' | 'warning' | 'reached';

export function budgetTone(percent: number): BudgetTone {
  if (percent >= 100) return 'reached';
  if (percent >= 80) return 'warning';
  return 'ok';
}

/** The whole percent of `limit` that `spent` is (0 for no limit), as the server truncates it. */
export function budgetPercent(spent: string | number, limit: string | number): number {
  const s = Number(spent);
  const l = Number(limit);
  if (!Number.isFinite(s) || !Number.isFinite(l) || l <= 0) return 0;
  return Math.floor((s * 100) / l + 1e-9);
}

/** A typed monthly budget: a positive amount of US dollars with at most 2 decimals, or null. */
export function parseBudget(text: string): string | null {
  const trimmed = text.trim().replace(/^\$/, '');
  if (!/^\d{1,7}(\.\d{1,2})?$/.test(trimmed)) return null;
  return Number(trimmed) > 0 ? trimmed : null;
}
