import { looksPersonal } from './identifiers.js';

/**
 * The parts of an address that outlive the person in clear: an anonymization keeps country, town
 * and postcode, "allowing the reports on the geographical origin to remain accurate", and an
 * order purge keeps the beneficiary's country (reference: ticketing-gdpr-features-v2.en.txt).
 * Copied out of the seal into `ContactAnonymized.retained` and `OrderDataPurged.retained`, they
 * stay in the log and every replay of it for ever, so each must hold a place and nothing else: no
 * e-mail address, no phone number, no free text. `placeIssue` is the one check, run when an address
 * is published (the `place` keyword of the catalog's schemas) and again before a part is copied
 * (`retainedPlace`), for an address stored before the rule.
 */
export const PLACE_FIELDS = ['country', 'town', 'postcode'] as const;
export type PlaceField = (typeof PLACE_FIELDS)[number];
export type Place = Partial<Record<PlaceField, string>>;

/** The longest town names in use ("Saint-Remy-en-Bouzemont-Saint-Genest-et-Isson") stay under it. */
export const TOWN_MAX_LENGTH = 80;
/** Postcodes in use are at most 11 characters (Iran's 12345-67890, a US ZIP+4 12345-6789). */
export const POSTCODE_MAX_LENGTH = 12;

/** What each part may hold, said once: the refusal's message and the API document's description. */
export const PLACE_RULES: Readonly<Record<PlaceField, string>> = {
  country: 'an ISO 3166-1 alpha-2 code in upper case (FR, CH)',
  town:
    `a place name of at most ${TOWN_MAX_LENGTH} characters: letters, spaces, - ' . ( ), ` +
    'and one district number after the name (Paris 8e, Lyon 1er, Paris Cedex 08)',
  postcode: `at most ${POSTCODE_MAX_LENGTH} letters, digits, spaces or hyphens, with a digit; not a phone number`,
};

// Two letters: a code cannot name a person, so any pair passes (a new code needs no release of ours).
const COUNTRY = /^[A-Z]{2}$/;
// A name starts with a letter (or the apostrophe of 's-Hertogenbosch); digits appear only as one
// district number (1 to 3 digits, an ordinal suffix) after it, so no phone number (8 digits or
// more) can hide in a town.
const NAME_PART = "[\\p{L}\\p{M}'’.() -]*";
const TOWN = new RegExp(`^['’]?\\p{L}${NAME_PART}(?: \\d{1,3}\\p{L}{0,3}\\.?(?:[ -]${NAME_PART})?)?$`, 'u');
const POSTCODE = /^(?=.*\d)[A-Za-z0-9][A-Za-z0-9 -]*$/;
// Brazil's CEP (01310-100) has the digits of a national phone number, but no phone is written 5-3.
const BRAZILIAN_CEP = /^\d{5}-\d{3}$/;

/**
 * Why `value` cannot stand in clear as this part of a place, or null when it can. The message says
 * what the part may hold and never quotes the value (it may be the very personal data refused).
 */
export function placeIssue(field: PlaceField, value: unknown): string | null {
  if (typeof value !== 'string') return `must be ${PLACE_RULES[field]}`;
  if (looksPersonal(value) && !(field === 'postcode' && BRAZILIAN_CEP.test(value))) {
    return 'looks like an e-mail address or a phone number: a place kept in clear after forgetting holds neither';
  }
  const fits =
    field === 'country'
      ? COUNTRY.test(value)
      : field === 'town'
        ? value.length <= TOWN_MAX_LENGTH && TOWN.test(value)
        : value.length <= POSTCODE_MAX_LENGTH && POSTCODE.test(value);
  return fits ? null : `must be ${PLACE_RULES[field]}`;
}

/**
 * The parts of `address` (among `fields`) that may be kept in clear: each checked by placeIssue,
 * a failing part dropped, never copied (an address published before the rule, an edited log).
 */
export function retainedPlace(
  address: Readonly<Partial<Record<PlaceField, unknown>>> | undefined,
  fields: readonly PlaceField[] = PLACE_FIELDS,
): Place {
  const kept: Place = {};
  for (const field of fields) {
    const value = address?.[field];
    if (value !== undefined && placeIssue(field, value) === null) kept[field] = value as string;
  }
  return kept;
}
