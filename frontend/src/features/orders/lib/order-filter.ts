// The orders filter as the address holds it (?status=&from=&to=&customer=&include_tests=&page=),
// so a filtered list can be linked, reloaded and gone back to. Orders from the test chat are
// left out unless include_tests=true.
export type OrderFilter = { status?: string; from?: string; to?: string; customer?: string; include_tests?: boolean; page?: number };

const DAY = /^\d{4}-\d{2}-\d{2}$/;

export function filterFrom(params: URLSearchParams): OrderFilter {
  const page = Number(params.get('page') ?? '1');
  const day = (key: string) => {
    const value = params.get(key);
    return value && DAY.test(value) ? value : undefined;
  };
  return {
    status: params.get('status') || undefined,
    from: day('from'),
    to: day('to'),
    customer: params.get('customer')?.trim() || undefined,
    include_tests: params.get('include_tests') === 'true' ? true : undefined,
    page: Number.isInteger(page) && page > 0 ? page : 1,
  };
}

/** One filter changed: any other change than the page goes back to page 1. */
export function withFilter(params: URLSearchParams, key: keyof OrderFilter, value: string | undefined): URLSearchParams {
  const next = new URLSearchParams(params);
  if (value) next.set(key, value);
  else next.delete(key);
  if (key !== 'page') next.delete('page');
  return next;
}
