import { describe, expect, it } from 'vitest';
import { filterFrom, withFilter } from './order-filter';

describe('orders filter in the address', () => {
  it('reads the filter, ignoring what is not a day or a page', () => {
    expect(filterFrom(new URLSearchParams('status=shipped&from=2026-11-01&to=nonsense&customer=%20ليلى%20&page=3'))).toEqual({
      status: 'shipped',
      from: '2026-11-01',
      to: undefined,
      customer: 'ليلى',
      include_tests: undefined,
      page: 3,
    });
    expect(filterFrom(new URLSearchParams('include_tests=true')).include_tests).toBe(true);
    expect(filterFrom(new URLSearchParams('include_tests=yes')).include_tests).toBeUndefined();
    expect(filterFrom(new URLSearchParams('page=-2')).page).toBe(1);
    expect(filterFrom(new URLSearchParams('page=abc')).page).toBe(1);
  });

  it('changing a filter goes back to the first page; changing the page keeps the filter', () => {
    const params = new URLSearchParams('status=pending&page=4');
    expect(withFilter(params, 'customer', '079').toString()).toBe('status=pending&customer=079');
    expect(withFilter(params, 'page', '5').toString()).toBe('status=pending&page=5');
    expect(withFilter(params, 'status', undefined).toString()).toBe('');
  });
});
