// i18n: English and Arabic. One JSON file per feature namespace under src/locales/{en,ar}/,
// loaded on first use (so a tab's strings ship with the tab). The language is remembered in
// localStorage and drives <html lang dir>; Arabic is right-to-left.
import i18next, { type BackendModule } from 'i18next';
import { initReactI18next, useTranslation } from 'react-i18next';

export { LANGUAGES, type Language, isLanguage, directionOf, localeOf } from '@/lib/language';
import { directionOf, isLanguage, LANGUAGES, type Language } from '@/lib/language';

const STORAGE_KEY = 'igshop.language';

const bundles = import.meta.glob<{ default: Record<string, unknown> }>('../locales/*/*.json');

const lazyBundles: BackendModule = {
  type: 'backend',
  init() {},
  read(language, namespace, callback) {
    const load = bundles[`../locales/${language}/${namespace}.json`];
    if (!load) {
      callback(new Error(`no strings for ${language}/${namespace}`), null);
      return;
    }
    load().then(
      (module) => callback(null, module.default),
      (error: unknown) => callback(error as Error, null),
    );
  },
};

function initialLanguage(): Language {
  try {
    const saved = localStorage.getItem(STORAGE_KEY);
    if (isLanguage(saved)) return saved;
  } catch {
    // storage can be blocked; fall through to the browser's language
  }
  const browser = typeof navigator === 'undefined' ? '' : navigator.language;
  return browser?.toLowerCase().startsWith('ar') ? 'ar' : 'en';
}

function applyToDocument(language: Language) {
  if (typeof document === 'undefined') return; // unit tests run without a DOM
  document.documentElement.lang = language;
  document.documentElement.dir = directionOf(language);
}

export function currentLanguage(): Language {
  return isLanguage(i18next.resolvedLanguage) ? i18next.resolvedLanguage : 'en';
}

export async function changeLanguage(language: Language) {
  try {
    localStorage.setItem(STORAGE_KEY, language);
  } catch {
    // not remembered, still switched
  }
  await i18next.changeLanguage(language);
}

i18next.on('languageChanged', (language) => {
  if (isLanguage(language)) applyToDocument(language);
});

const language = initialLanguage();
applyToDocument(language);

export const i18nReady = i18next
  .use(lazyBundles)
  .use(initReactI18next)
  .init({
    lng: language,
    fallbackLng: 'en',
    supportedLngs: [...LANGUAGES],
    ns: ['common'],
    defaultNS: 'common',
    interpolation: { escapeValue: false },
    react: { useSuspense: true },
    returnNull: false,
  });

export { i18next as i18n };

/** The current language, re-rendering on change. */
export function useLanguage(): Language {
  const { i18n } = useTranslation();
  return isLanguage(i18n.resolvedLanguage) ? i18n.resolvedLanguage : 'en';
}

/** The text direction of the current language. */
export function useDirection(): 'ltr' | 'rtl' {
  return directionOf(useLanguage());
}
