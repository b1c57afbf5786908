import { describe, expect, it } from 'vitest';
import { addDays, ammanDay, formatDateTime, formatDay, formatMoney, formatRelative, formatStamp, formatTime } from '@/lib/format';

describe('formatMoney', () => {
  it('shows JOD with three decimals in English', () => {
    expect(formatMoney('12.5', 'en')).toMatch(/JOD\s?12\.500/);
    expect(formatMoney('1234.005', 'en')).toMatch(/1,234\.005/);
    expect(formatMoney(0, 'en')).toMatch(/0\.000/);
  });

  it('shows JOD with three decimals in Arabic with the Jordanian symbol', () => {
    const text = formatMoney('12.500', 'ar');
    expect(text).toContain('د.أ.');
    // Arabic-Indic digits with the Arabic decimal separator: ١٢٫٥٠٠
    expect(text).toContain('١٢٫٥٠٠');
  });

  it('keeps unreadable input visible instead of inventing a number', () => {
    expect(formatMoney('abc', 'en')).toBe('abc');
    expect(formatMoney(null, 'en')).toBe('—');
  });
});

describe('dates in Asia/Amman', () => {
  // 2026-12-01T21:30Z is 00:30 on 2 December in Amman (UTC+3).
  const lateEvening = '2026-12-01T21:30:00Z';

  it('formats instants in Amman time, not the machine zone', () => {
    expect(formatTime(lateEvening, 'en')).toBe('00:30');
    expect(formatDateTime(lateEvening, 'en')).toMatch(/Dec 2, 2026|2 Dec 2026/);
  });

  it('gives the Amman calendar day', () => {
    expect(ammanDay(new Date(lateEvening))).toBe('2026-12-02');
    expect(ammanDay(new Date('2026-12-01T20:59:00Z'))).toBe('2026-12-01');
  });

  it('formats an API day key without shifting it', () => {
    expect(formatDay('2026-12-01', 'en')).toMatch(/Dec 1, 2026|1 Dec 2026/);
    expect(formatDay('2026-12-01', 'ar')).toMatch(/٠?١.*١٢.*٢٠٢٦/);
  });

  it('adds days across month ends', () => {
    expect(addDays('2026-12-31', 1)).toBe('2027-01-01');
    expect(addDays('2026-03-01', -1)).toBe('2026-02-28');
  });
});

describe('formatRelative', () => {
  const now = new Date('2026-12-01T12:00:00Z');
  it('says how long ago in each language', () => {
    expect(formatRelative('2026-12-01T11:55:00Z', 'en', now)).toBe('5 minutes ago');
    expect(formatRelative('2026-12-01T11:59:50Z', 'en', now)).toBe('now');
    expect(formatRelative('2026-11-30T12:00:00Z', 'en', now)).toBe('yesterday');
    expect(formatRelative('2026-12-01T15:00:00Z', 'en', now)).toBe('in 3 hours');
    expect(formatRelative('2026-12-01T11:55:00Z', 'ar', now)).toMatch(/قبل/);
  });
});

describe('formatStamp', () => {
  const now = new Date('2026-12-01T12:00:00Z'); // 15:00 in Amman
  it('shows only the time for today in Amman, the date too for earlier days', () => {
    expect(formatStamp('2026-12-01T06:00:00Z', 'en', now)).toBe('09:00');
    expect(formatStamp('2026-11-29T06:00:00Z', 'en', now)).toMatch(/Nov 29, 2026|29 Nov 2026/);
    // 22:30 UTC on 30 Nov is 01:30 on 1 Dec in Amman: still "today".
    expect(formatStamp('2026-11-30T22:30:00Z', 'en', now)).toBe('01:30');
  });
});
