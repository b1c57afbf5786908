import i18next from 'i18next';
import { describe, expect, it } from 'vitest';
import ar from '@/locales/ar/alerts.json';
import en from '@/locales/en/alerts.json';
import { asParams, reasonText } from '@/lib/reason-text';

const i18n = i18next.createInstance();
await i18n.init({
  lng: 'en',
  resources: { en: { alerts: en }, ar: { alerts: ar } },
  ns: ['alerts'],
  defaultNS: 'alerts',
  interpolation: { escapeValue: false },
});

describe('reasonText', () => {
  it('words a handoff reason and its nested cause in the merchant language', () => {
    const english = reasonText(i18n.getFixedT('en', 'alerts'), 'ai_failed', { cause: 'model_busy' });
    expect(english).toBe('the AI could not answer (the AI provider is busy (too many requests))');
    const arabic = reasonText(i18n.getFixedT('ar', 'alerts'), 'ai_failed', { cause: 'model_busy' });
    expect(arabic).not.toBe('');
    expect(arabic).not.toMatch(/[A-Za-z]/);
  });

  it('fills the parameters of a key', () => {
    const t = i18n.getFixedT('en', 'alerts');
    expect(reasonText(t, 'handoff_word', { word: 'مدير' })).toContain('“مدير”');
  });

  it('gives nothing for an unknown or missing key, so the caller shows the English text', () => {
    const t = i18n.getFixedT('en', 'alerts');
    expect(reasonText(t, 'a_key_from_a_newer_server', {})).toBe('');
    expect(reasonText(t, null, {})).toBe('');
  });

  it('reads only objects as parameters', () => {
    expect(asParams({ cause: 'x' })).toEqual({ cause: 'x' });
    expect(asParams(['x'])).toEqual({});
    expect(asParams('x')).toEqual({});
  });
});
