import type { ModelSettingsChange } from '@/features/settings/api/settings';

export type ModelFormValues = { api_key: string; base_url: string; model: string };

/** Only what the merchant changed: an empty key keeps the saved one, an emptied field clears it. */
export function modelChange(
  values: ModelFormValues,
  saved: { base_url?: string | null; model?: string | null },
): ModelSettingsChange {
  const change: ModelSettingsChange = {};
  if (values.api_key.trim()) change.api_key = values.api_key.trim();
  const baseUrl = values.base_url.trim();
  if (baseUrl !== (saved.base_url ?? '')) change.base_url = baseUrl || null;
  const model = values.model.trim();
  if (model !== (saved.model ?? '')) change.model = model || null;
  return change;
}
