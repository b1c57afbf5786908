// Money, numbers, dates and relative times as the merchant reads them: JOD with 3 decimals,
// times in Asia/Amman, in the current language's locale (ar-JO / en-JO).
import { localeOf, type Language } from '@/lib/language';

export const SHOP_TIME_ZONE = 'Asia/Amman';

const cache = new Map<string, Intl.NumberFormat | Intl.DateTimeFormat | Intl.RelativeTimeFormat>();
function memo<T extends Intl.NumberFormat | Intl.DateTimeFormat | Intl.RelativeTimeFormat>(
  key: string,
  make: () => T,
): T {
  let found = cache.get(key);
  if (!found) {
    found = make();
    cache.set(key, found);
  }
  return found as T;
}

/** "12.500" (the API's JOD string) → "JOD 12.500" / "‏١٢٫٥٠٠ د.أ.‏". Unreadable → the input. */
export function formatMoney(jod: string | number | null | undefined, language: Language): string {
  if (jod === null || jod === undefined || jod === '') return '—';
  const value = typeof jod === 'number' ? jod : Number(jod);
  if (!Number.isFinite(value)) return String(jod);
  return memo(`money:${language}`, () =>
    new Intl.NumberFormat(localeOf(language), {
      style: 'currency',
      currency: 'JOD',
      minimumFractionDigits: 3,
      maximumFractionDigits: 3,
    }),
  ).format(value);
}

export function formatNumber(value: number, language: Language): string {
  return memo(`number:${language}`, () => new Intl.NumberFormat(localeOf(language))).format(value);
}

/** USD costs of model calls, which can be fractions of a cent. */
export function formatUsd(usd: string | number, language: Language): string {
  const value = typeof usd === 'number' ? usd : Number(usd);
  if (!Number.isFinite(value)) return String(usd);
  return memo(`usd:${language}`, () =>
    new Intl.NumberFormat(localeOf(language), {
      style: 'currency',
      currency: 'USD',
      minimumFractionDigits: 2,
      maximumFractionDigits: 4,
    }),
  ).format(value);
}

function toDate(value: string | Date): Date | null {
  const date = value instanceof Date ? value : new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
}

/** An instant as a date and time in Amman: "1 Dec 2026, 14:05". */
export function formatDateTime(value: string | Date | null | undefined, language: Language): string {
  if (!value) return '—';
  const date = toDate(value);
  if (!date) return String(value);
  return memo(`datetime:${language}`, () =>
    new Intl.DateTimeFormat(localeOf(language), {
      timeZone: SHOP_TIME_ZONE,
      dateStyle: 'medium',
      timeStyle: 'short',
      hourCycle: 'h23',
    }),
  ).format(date);
}

/** An instant as a time of day in Amman: "14:05". */
export function formatTime(value: string | Date, language: Language): string {
  const date = toDate(value);
  if (!date) return String(value);
  return memo(`time:${language}`, () =>
    new Intl.DateTimeFormat(localeOf(language), {
      timeZone: SHOP_TIME_ZONE,
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    }),
  ).format(date);
}

/** A calendar day the API already computed in Amman ("2026-12-01"): no zone shift. */
export function formatDay(day: string, language: Language, style: 'short' | 'medium' = 'medium'): string {
  const date = toDate(`${day}T00:00:00Z`);
  if (!date) return day;
  return memo(`day:${style}:${language}`, () =>
    new Intl.DateTimeFormat(
      localeOf(language),
      style === 'short'
        ? { timeZone: 'UTC', day: 'numeric', month: 'short' }
        : { timeZone: 'UTC', dateStyle: 'medium' },
    ),
  ).format(date);
}

/** Today's date in Amman as YYYY-MM-DD (the API's day keys). */
export function ammanDay(now: Date = new Date()): string {
  // en-CA formats as YYYY-MM-DD.
  return new Intl.DateTimeFormat('en-CA', {
    timeZone: SHOP_TIME_ZONE,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(now);
}

/** YYYY-MM-DD shifted by whole days. */
export function addDays(day: string, days: number): string {
  const date = new Date(`${day}T00:00:00Z`);
  date.setUTCDate(date.getUTCDate() + days);
  return date.toISOString().slice(0, 10);
}

const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
  ['year', 365 * 24 * 3600],
  ['month', 30 * 24 * 3600],
  ['week', 7 * 24 * 3600],
  ['day', 24 * 3600],
  ['hour', 3600],
  ['minute', 60],
  ['second', 1],
];

/** "5 minutes ago", "in 3 hours", "yesterday" — in the current language. */
export function formatRelative(
  value: string | Date | null | undefined,
  language: Language,
  now: Date = new Date(),
): string {
  if (!value) return '—';
  const date = toDate(value);
  if (!date) return String(value);
  const seconds = Math.round((date.getTime() - now.getTime()) / 1000);
  const format = memo(`relative:${language}`, () =>
    new Intl.RelativeTimeFormat(localeOf(language), { numeric: 'auto' }),
  );
  if (Math.abs(seconds) < 45) return format.format(0, 'second');
  for (const [unit, size] of UNITS) {
    if (Math.abs(seconds) >= size || unit === 'second') {
      return format.format(Math.round(seconds / size), unit);
    }
  }
  return format.format(0, 'second');
}

/** A thread timestamp: the time alone for today (in Amman), else the date and time. */
export function formatStamp(value: string | Date, language: Language, now: Date = new Date()): string {
  const date = toDate(value);
  if (!date) return String(value);
  return ammanDay(date) === ammanDay(now) ? formatTime(date, language) : formatDateTime(date, language);
}
