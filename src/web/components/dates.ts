import type { Language } from '../messages/index.js';

const LOCALES: Record<Language, string> = { fr: 'fr-FR', en: 'en-GB' };

/** A day as the person reads it in their language ("12 mars 2029", "12 March 2029"), in UTC as the ledger keeps it. */
export function formatDate(language: Language, instant: string): string {
  return new Intl.DateTimeFormat(LOCALES[language], { dateStyle: 'long', timeZone: 'UTC' }).format(new Date(instant));
}

/** A country code by its name in the person's language (FR: France), the code itself when unknown. */
export function countryName(language: Language, code: string): string {
  try {
    return new Intl.DisplayNames([LOCALES[language]], { type: 'region' }).of(code) ?? code;
  } catch {
    return code;
  }
}
