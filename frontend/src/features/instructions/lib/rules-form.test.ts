import { describe, expect, it } from 'vitest';
import { formToRules, newZone, rulesToForm, zoneField } from './rules-form';

describe('business rules form', () => {
  it('round-trips the API shape', () => {
    const rules = {
      delivery_zones: [{ city: 'عمّان', fee_jod: '2.000', delivery_days: 1 }, { city: 'إربد', fee_jod: '3.500', delivery_days: null }],
      minimum_order_jod: '10.000',
      working_hours: { sunday: '10:00-22:00', friday: 'closed' },
      out_of_hours_message: 'رح نرد عليك الصبح',
      handoff: { keywords: ['شكوى', 'manager'], on_complaint: true, on_request: false },
    };
    expect(formToRules(rulesToForm(rules))).toEqual(rules);
  });

  it('drops empty zone rows, reads keywords split by lines or commas, empty minimum is none', () => {
    const form = rulesToForm({});
    form.zones = [{ ...newZone(), city: 'الزرقاء', fee_jod: '2.5' }, newZone()];
    form.keywords = 'شكوى، مدير\nrefund, ';
    const rules = formToRules(form);
    expect(rules.delivery_zones).toEqual([{ city: 'الزرقاء', fee_jod: '2.5', delivery_days: null }]);
    expect(rules.handoff?.keywords).toEqual(['شكوى', 'مدير', 'refund']);
    form.zones = [{ ...newZone(), city: 'الزرقاء', fee_jod: '2.5', aliases: 'Zarqa، zarqa city, ' }];
    expect(formToRules(form).delivery_zones?.[0]?.aliases).toEqual(['Zarqa', 'zarqa city']);
    expect(rulesToForm(formToRules(form)).zones[0]?.aliases).toBe('Zarqa, zarqa city');
    expect(rules.minimum_order_jod).toBeNull();
  });

  it('names zone fields as the API does (from 1)', () => {
    expect(zoneField(0, 'city')).toBe('delivery_zones[1].city');
  });
});
