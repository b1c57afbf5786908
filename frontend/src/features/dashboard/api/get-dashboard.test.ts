import { describe, expect, it } from 'vitest';
import { rangeDays } from '@/features/dashboard/api/get-dashboard';

describe('rangeDays', () => {
  it('counts the last N Amman days including today', () => {
    expect(rangeDays('today', '2026-12-01')).toEqual({ from: '2026-12-01', to: '2026-12-01' });
    expect(rangeDays('7d', '2026-12-01')).toEqual({ from: '2026-11-25', to: '2026-12-01' });
    expect(rangeDays('30d', '2026-03-01')).toEqual({ from: '2026-01-31', to: '2026-03-01' });
  });
});
