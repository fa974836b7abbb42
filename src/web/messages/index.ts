import type { Language, Messages } from './catalog.js';
import { en } from './en.js';
import { fr } from './fr.js';

export {
  chooseLanguage,
  isLanguage,
  LANGUAGES,
  type AddressTexts,
  type DetailTexts,
  type Language,
  type Messages,
} from './catalog.js';

/** Each language's catalog: a language without one is a type error. */
export const MESSAGES: Record<Language, Messages> = { fr, en };
