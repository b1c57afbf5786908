import { type TFunction } from 'i18next';

export type ReasonParams = Record<string, unknown>;

/** An API `params` value as an object (anything else reads as no parameters). */
export const asParams = (v: unknown): ReasonParams =>
  v && typeof v === 'object' && !Array.isArray(v) ? (v as ReasonParams) : {};

/**
 * A reason key the API sends (why the AI handed over, why the model failed) in the
 * merchant's language, from the `reason.*` texts of the alerts namespace, nested causes
 * included; '' for a key the web app does not know (the caller then shows the English text).
 */
export function reasonText(t: TFunction<'alerts'>, key: unknown, params: ReasonParams): string {
  if (typeof key !== 'string') return '';
  const cause = typeof params.cause === 'string' ? reasonText(t, params.cause, {}) : undefined;
  return t(`reason.${key}`, { ...params, ...(cause ? { cause } : {}), defaultValue: '' }) as string;
}
