import { describe, expect, it } from 'vitest';
import {
  formToProfile,
  lineOfField,
  profileToForm,
  profileToYaml,
  yamlToProfile,
  type Profile,
} from './profile-yaml';

const profile: Profile = {
  shop_name: 'متجر ليان',
  intro: 'ملابس نسائية',
  instagram_handle: '@layan',
  brand_voice: 'ودود',
  delivery: 'عمّان خلال يوم',
  returns: { policy: 'خلال ٧ أيام', window_days: 7 },
  offers: ['خصم ١٠٪ على الطلب الأول', 'توصيل مجاني فوق ٥٠ دينار'],
  working_hours: { sunday: '10:00-22:00', friday: 'closed' },
};

describe('profile form ⇄ YAML', () => {
  it('a profile survives form → YAML → form unchanged', () => {
    const yaml = profileToYaml(formToProfile(profileToForm(profile)));
    const back = yamlToProfile(yaml);
    expect('profile' in back && back.profile).toEqual(profile);
  });

  it('writes keys in reading order and days from Sunday', () => {
    const yaml = profileToYaml({ ...profile, working_hours: { friday: 'closed', sunday: '09:00-17:00' } });
    const keys = yaml.split('\n').filter((l) => /^\w/.test(l)).map((l) => l.split(':')[0]);
    expect(keys).toEqual(['shop_name', 'intro', 'instagram_handle', 'brand_voice', 'delivery', 'returns', 'offers', 'working_hours']);
    expect(yaml.indexOf('sunday')).toBeLessThan(yaml.indexOf('friday'));
  });

  it('the form keeps one offer per line and drops empty lines and empty days', () => {
    const form = profileToForm(profile);
    expect(form.offers).toBe('خصم ١٠٪ على الطلب الأول\nتوصيل مجاني فوق ٥٠ دينار');
    const saved = formToProfile({ ...form, offers: ' a \n\n b ', working_hours: { ...form.working_hours, monday: '  ' } });
    expect(saved.offers).toEqual(['a', 'b']);
    expect(saved.working_hours).toEqual({ sunday: '10:00-22:00', friday: 'closed' });
  });

  it('a window that is not a number is sent as typed, for the API to name', () => {
    const saved = formToProfile({ ...profileToForm(profile), returns_window_days: 'seven' });
    expect(saved.returns.window_days).toBe('seven');
    expect(formToProfile({ ...profileToForm(profile), returns_window_days: '' }).returns.window_days).toBe(0);
  });

  it('an empty handle is null, not ""', () => {
    expect(formToProfile({ ...profileToForm(profile), instagram_handle: ' ' }).instagram_handle).toBeNull();
  });

  it('reports the line of a YAML syntax error', () => {
    const result = yamlToProfile('shop_name: x\nintro: [unclosed\n');
    expect('problem' in result && result.problem.line).toBeGreaterThanOrEqual(2);
  });

  it('finds the line of a field path the API names', () => {
    const yaml = profileToYaml(profile);
    const lines = yaml.split('\n');
    const windowLine = lineOfField(yaml, 'returns.window_days')!;
    expect(lines[windowLine - 1]).toContain('window_days: 7');
    expect(lines[lineOfField(yaml, 'offers.1')! - 1]).toContain('توصيل مجاني');
    expect(lines[lineOfField(yaml, 'working_hours.friday')! - 1]).toContain('friday');
    expect(lineOfField(yaml, 'line 3')).toBe(3);
    expect(lineOfField(yaml, 'nothing.here')).toBeNull();
  });
});
