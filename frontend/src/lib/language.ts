// The languages the app speaks, and what each implies (direction, locale tag). Pure: no DOM.
export const LANGUAGES = ['en', 'ar'] as const;
export type Language = (typeof LANGUAGES)[number];

export function isLanguage(value: unknown): value is Language {
  return typeof value === 'string' && (LANGUAGES as readonly string[]).includes(value);
}

export function directionOf(language: Language): 'ltr' | 'rtl' {
  return language === 'ar' ? 'rtl' : 'ltr';
}

/** The locale tag used for numbers, money and dates. */
export function localeOf(language: Language): string {
  return language === 'ar' ? 'ar-JO' : 'en-JO';
}
