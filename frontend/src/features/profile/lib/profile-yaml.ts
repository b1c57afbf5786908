// The business profile in its two shapes: the form the merchant fills in and the YAML the API
// stores (and the merchant may edit directly). Pure conversions, so both editors stay in step,
// plus where a field sits in the YAML text (to show the API's field error at its line).
import { isMap, isScalar, isSeq, parseDocument, stringify, type Node } from 'yaml';
import type { components } from '@/lib/api/schema';

export type Profile = components['schemas']['Profile'];

export const DAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'] as const;
export type Day = (typeof DAYS)[number];

/** Everything as the form's inputs hold it (text), so a half-typed value is never lost. */
export type ProfileForm = {
  shop_name: string;
  intro: string;
  instagram_handle: string;
  brand_voice: string;
  delivery: string;
  returns_policy: string;
  returns_window_days: string;
  /** One offer per line. */
  offers: string;
  working_hours: Record<Day, string>;
};

const text = (value: unknown): string => (typeof value === 'string' ? value : value == null ? '' : String(value));

export function profileToForm(profile: Partial<Profile>): ProfileForm {
  const hours = profile.working_hours ?? {};
  return {
    shop_name: text(profile.shop_name),
    intro: text(profile.intro),
    instagram_handle: text(profile.instagram_handle),
    brand_voice: text(profile.brand_voice),
    delivery: text(profile.delivery),
    returns_policy: text(profile.returns?.policy),
    returns_window_days: profile.returns?.window_days === undefined ? '' : String(profile.returns.window_days),
    offers: (profile.offers ?? []).map(text).join('\n'),
    working_hours: Object.fromEntries(DAYS.map((day) => [day, text(hours[day])])) as Record<Day, string>,
  };
}

/**
 * The form as the API's profile. Numbers the merchant typed stay as typed when they are not
 * numbers, so the API names the field ("returns.window_days") instead of the form guessing.
 */
export function formToProfile(form: ProfileForm): Profile {
  const days = form.returns_window_days.trim();
  const windowDays = /^\d+$/.test(days) ? Number(days) : (days as unknown as number);
  const hours: Record<string, string> = {};
  for (const day of DAYS) {
    const value = form.working_hours[day].trim();
    if (value) hours[day] = value;
  }
  const handle = form.instagram_handle.trim();
  return {
    shop_name: form.shop_name.trim(),
    intro: form.intro.trim(),
    instagram_handle: handle || null,
    brand_voice: form.brand_voice.trim(),
    delivery: form.delivery.trim(),
    returns: { policy: form.returns_policy.trim(), window_days: days === '' ? 0 : windowDays },
    offers: form.offers
      .split('\n')
      .map((line) => line.trim())
      .filter(Boolean),
    working_hours: hours,
  };
}

const ORDER = ['shop_name', 'intro', 'instagram_handle', 'brand_voice', 'delivery', 'returns', 'offers', 'working_hours'];

/** The profile as YAML, in the order a merchant reads it, days from Sunday. */
export function profileToYaml(profile: Profile): string {
  const ordered: Record<string, unknown> = {};
  for (const key of ORDER) {
    const value = (profile as Record<string, unknown>)[key];
    if (value === undefined || value === null) continue;
    if (key === 'working_hours') {
      const hours = value as Record<string, string>;
      ordered[key] = Object.fromEntries(DAYS.filter((d) => hours[d] !== undefined).map((d) => [d, hours[d]]));
    } else if (key === 'returns') {
      const returns = value as Profile['returns'];
      ordered[key] = { policy: returns.policy ?? '', window_days: returns.window_days };
    } else ordered[key] = value;
  }
  for (const [key, value] of Object.entries(profile)) {
    if (!ORDER.includes(key) && value !== undefined) ordered[key] = value;
  }
  return stringify(ordered, { lineWidth: 0 });
}

export type YamlProblem = { line: number; message: string };

/** The YAML text as a profile, or where it cannot be read (1-based line). */
export function yamlToProfile(source: string): { profile: Partial<Profile> } | { problem: YamlProblem } {
  const doc = parseDocument(source, { prettyErrors: false });
  const error = doc.errors[0];
  if (error) {
    return { problem: { line: lineAt(source, error.pos[0]), message: error.message.split('\n')[0] ?? error.message } };
  }
  const value: unknown = doc.toJS();
  if (value === null || value === undefined) return { profile: {} };
  if (typeof value !== 'object' || Array.isArray(value)) {
    return { problem: { line: 1, message: 'not_a_mapping' } };
  }
  return { profile: value as Partial<Profile> };
}

function lineAt(source: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < source.length; i++) if (source[i] === '\n') line++;
  return line;
}

/**
 * The line of the YAML text holding a field path like `returns.window_days` or `offers.2`
 * (the API's problem paths); `null` when the text has no such field.
 */
export function lineOfField(source: string, field: string): number | null {
  const line = /^line (\d+)$/.exec(field);
  if (line) return Number(line[1]);
  const doc = parseDocument(source);
  if (doc.errors.length > 0) return null;
  let node: unknown = doc.contents;
  let keyRange: [number, number, number] | null | undefined = null;
  for (const part of field.split('.')) {
    if (isMap(node)) {
      const pair = node.items.find((item) => isScalar(item.key) && String(item.key.value) === part);
      if (!pair) return null;
      keyRange = isScalar(pair.key) ? pair.key.range : null;
      node = pair.value;
    } else if (isSeq(node)) {
      const item = node.items[Number(part)] as Node | undefined;
      if (!item) return null;
      keyRange = item.range;
      node = item;
    } else return null;
  }
  const range = keyRange ?? (node as Node | null)?.range;
  return range ? lineAt(source, range[0]) : null;
}
