// The overview figures for today / the last 7 / the last 30 Amman days.
import { $api } from '@/lib/api-client';
import { addDays, ammanDay } from '@/lib/format';
import type { components } from '@/lib/api/schema';

export type Overview = components['schemas']['Overview'];
export type DashboardRange = 'today' | '7d' | '30d';
export const DASHBOARD_RANGES: DashboardRange[] = ['today', '7d', '30d'];

export function rangeDays(range: DashboardRange, today: string = ammanDay()): { from: string; to: string } {
  const span = range === 'today' ? 0 : range === '7d' ? 6 : 29;
  return { from: addDays(today, -span), to: today };
}

export function useDashboard(range: DashboardRange) {
  const query = rangeDays(range);
  return $api.useQuery('get', '/api/v1/dashboard', { params: { query } }, { refetchInterval: 60_000 });
}
