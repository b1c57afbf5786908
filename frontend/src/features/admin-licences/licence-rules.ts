// What the licences screen derives: how urgent a licence is, the date "extend" proposes, and
// which shops have no licence yet. Days are Asia/Amman calendar days (YYYY-MM-DD).
import { addDays } from '@/lib/format';

export type LicenceTone = 'expired' | 'lastDay' | 'soon' | 'ok';

/** 14 days before the end the merchant is warned; the console shows it the same way. */
export const EXPIRY_WARNING_DAYS = 14;

export function licenceTone(daysLeft: number): LicenceTone {
  if (daysLeft < 0) return 'expired';
  if (daysLeft === 0) return 'lastDay';
  if (daysLeft <= EXPIRY_WARNING_DAYS) return 'soon';
  return 'ok';
}

/** The same day `months` later, clamped to the month's last day (Jan 31 + 1 → Feb 28). */
export function addMonths(day: string, months: number): string {
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  const total = y * 12 + (m - 1) + months;
  const year = Math.floor(total / 12);
  const month = (total % 12) + 1;
  const last = new Date(Date.UTC(year, month, 0)).getUTCDate();
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(Math.min(d, last)).padStart(2, '0')}`;
}

/**
 * The new last day "extend by `months`" proposes: counted from the current end while it still
 * runs, from today once it has ended (an expired licence is not extended into the past).
 */
export function extendedExpiry(expiresOn: string | null | undefined, today: string, months = 12): string {
  const from = expiresOn && expiresOn >= today ? expiresOn : addDays(today, -1);
  return addMonths(from, months);
}

/** Whether a typed date is a real YYYY-MM-DD day not before today. */
export function isValidExpiry(value: string, today: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) return false;
  const date = new Date(`${value}T00:00:00Z`);
  if (Number.isNaN(date.getTime()) || date.toISOString().slice(0, 10) !== value) return false;
  return value >= today;
}

/** Shops with an Instagram handle that the whitelist does not name. */
export function unlicensedShops<T extends { ig_handle?: string | null; status: string }>(
  shops: T[],
  licensedHandles: string[],
): T[] {
  const licensed = new Set(licensedHandles.map((h) => h.toLowerCase()));
  return shops.filter((s) => s.ig_handle && !licensed.has(s.ig_handle.toLowerCase()));
}
