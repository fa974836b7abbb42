import { Ajv, type ErrorObject, type SchemaValidateFunction, type ValidateFunction } from 'ajv';
import { fullFormats } from 'ajv-formats/dist/formats.js';
import type { TSchema } from '@sinclair/typebox';
import { isOpaqueId, looksPersonal } from './identifiers.js';
import { PLACE_FIELDS, placeIssue, type PlaceField } from './places.js';

/** Years accepted in any date: wide enough for legacy imports, narrow enough to catch typos. */
export const MIN_YEAR = 1900;
export const MAX_YEAR = 2199;

const yearInRange = (year: number) => year >= MIN_YEAR && year <= MAX_YEAR;
const dateTime = fullFormats['date-time'] as { validate: (value: string) => boolean };
const date = fullFormats['date'] as { validate: (value: string) => boolean };

/**
 * An RFC 3339 date-time that names an instant a `Date` holds, in years MIN_YEAR..MAX_YEAR once in
 * UTC. The grammar alone lets through a leap second (`23:59:60`), which `Date` cannot represent:
 * it would pass here and fail later, when the instant is normalised or compared (a 500 instead of
 * a 400 naming the field). The year is checked on the UTC instant, the form it is stored in, so
 * that a normalised value is still a valid instant.
 */
function isInstant(value: string): boolean {
  if (!dateTime.validate(value)) return false;
  const time = Date.parse(value);
  return Number.isFinite(time) && yearInRange(new Date(time).getUTCFullYear());
}
/** A calendar date (YYYY-MM-DD) that exists (no February 30), in years MIN_YEAR..MAX_YEAR. */
const isCalendarDate = (value: string): boolean => date.validate(value) && yearInRange(Number(value.slice(0, 4)));

/**
 * What no text holds: control characters but tab and line breaks (C0, DEL, C1 but NEL); the
 * bidirectional overrides, which display text in another order than it is stored (a name that
 * reads as another in an export or a terminal; embeddings and isolates, which right-to-left text
 * uses, are kept); lone surrogates, which JSON can escape and which turn into U+FFFD when sealed
 * (with the `u` flag a pair is one code point: only a lone half matches).
 */
const NEVER_IN_TEXT = /[\u0000-\u0008\u000E-\u001F\u007F-\u0084\u0086-\u009F\u202D\u202E\uD800-\uDFFF]/u;
/** Line breaks (Unicode's, VT and FF of legacy exports included), and the tab: none in one line. */
const BREAK = /[\t\n\r\u000B\u000C\u0085\u2028\u2029]/u;
// Global twins, for cleanText's replaces (a global pattern's `test` would keep a lastIndex between calls).
const EVERY_NEVER_IN_TEXT = new RegExp(NEVER_IN_TEXT.source, 'gu');
const BREAK_RUNS = new RegExp(`${BREAK.source}+`, 'gu');
/**
 * Tag characters: invisible ASCII, kept only inside an emoji flag's sequence (U+1F3F4, tags,
 * U+E007F); anywhere else they would hide a sentence the text guard and the reader never see.
 */
const TAGS = /\u{1F3F4}[\u{E0020}-\u{E007E}]+\u{E007F}|[\u{E0000}-\u{E007F}]/gu;
const strayTagsOut = (value: string) => value.replace(TAGS, (tags) => (tags.startsWith('\u{1F3F4}') ? tags : ''));
/** Something a reader sees: not only spaces, invisible formatting or control characters. */
const VISIBLE = /[^\s\p{Cf}\p{Cc}]/u;

/** Text people write (a note, an answer): see NEVER_IN_TEXT and TAGS, and not blank. */
export const isCleanText = (value: string): boolean =>
  !NEVER_IN_TEXT.test(value) && strayTagsOut(value) === value && VISIBLE.test(value);
/** One line of it (a name, an address line): no line break nor tab either. */
export const isCleanLine = (value: string): boolean => isCleanText(value) && !BREAK.test(value);

/**
 * What a person's own page makes of what they typed or were shown: the characters these rules
 * refuse, which they cannot see, taken out (line breaks of one line become a space).
 */
export function cleanText(value: string, { oneLine }: { oneLine: boolean }): string {
  const kept = strayTagsOut(value.replace(EVERY_NEVER_IN_TEXT, ''));
  return (oneLine ? kept.replace(BREAK_RUNS, ' ') : kept).trim();
}

/** A version of a wording or a policy, kept in clear: a short identifier, never a name or a phone number. */
const VERSION = /^[A-Za-z0-9][A-Za-z0-9._:+-]{0,63}$/;

/** The one ajv instance: strict, all errors, and the formats the catalog uses. */
export const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
ajv.addKeyword({ keyword: 'personal', schemaType: 'boolean' });
ajv.addKeyword({ keyword: 'freeText', schemaType: 'boolean' });
// The parts of a place kept in clear after a forgetting, checked by the one rule retention runs
// again (places.ts), with its own message: what the part may hold, never the value.
const checkPlace: SchemaValidateFunction = (field: PlaceField, value: string) => {
  const issue = placeIssue(field, value);
  checkPlace.errors = issue === null ? [] : [{ keyword: 'place', message: issue, params: { field } }];
  return issue === null;
};
ajv.addKeyword({
  keyword: 'place',
  type: 'string',
  schemaType: 'string',
  metaSchema: { enum: [...PLACE_FIELDS] },
  errors: true,
  validate: checkPlace,
});
for (const name of ['email', 'uri', 'uuid'] as const) {
  ajv.addFormat(name, fullFormats[name] as never);
}
const ipv4 = fullFormats.ipv4 as RegExp;
const ipv6 = fullFormats.ipv6 as RegExp;
/**
 * The formats of the ledger's own: registered here, and listed with these descriptions in the API
 * document, so that any validator (ajv-formats plus these) compiles its schemas.
 */
export const CUSTOM_FORMATS: Record<string, { description: string; validate: (value: string) => boolean }> = {
  'opaque-id': {
    description: 'an opaque identifier: letters, digits, `.` `_` `:` `-`; never an e-mail address or a phone number',
    validate: isOpaqueId,
  },
  code: {
    description: 'a machine code (a slug) that does not look like a phone number',
    validate: (v) => !looksPersonal(v),
  },
  instant: {
    description: `an RFC 3339 date-time with a time zone, no leap second, year ${MIN_YEAR}..${MAX_YEAR} in UTC`,
    validate: isInstant,
  },
  'calendar-date': {
    description: `a calendar date YYYY-MM-DD that exists, year ${MIN_YEAR}..${MAX_YEAR}`,
    validate: isCalendarDate,
  },
  ip: { description: 'an IPv4 or IPv6 address', validate: (v) => ipv4.test(v) || ipv6.test(v) },
  text: {
    description:
      'text that is not blank: no control character but tab and line breaks, no bidirectional override, ' +
      'no lone surrogate, no tag character outside an emoji flag',
    validate: isCleanText,
  },
  line: { description: 'one line of `text`: no line break nor tab either', validate: isCleanLine },
  version: {
    description: 'a version: letters, digits, `.` `_` `:` `+` `-`, at most 64; never a phone number',
    validate: (v) => VERSION.test(v) && !looksPersonal(v),
  },
};
for (const [name, { validate }] of Object.entries(CUSTOM_FORMATS)) ajv.addFormat(name, { type: 'string', validate });

const compiled = new WeakMap<TSchema, ValidateFunction>();
export function validatorFor(schema: TSchema): ValidateFunction {
  let validate = compiled.get(schema);
  if (!validate) {
    validate = ajv.compile(schema);
    compiled.set(schema, validate);
  }
  return validate;
}

/** An ajv error as a JSON pointer and a message that never repeats the offending value. */
export function describeAjvError(error: ErrorObject): { pointer: string; message: string } {
  const params = error.params as Record<string, unknown>;
  if (error.keyword === 'required') {
    return { pointer: `${error.instancePath}/${String(params['missingProperty'])}`, message: 'is required' };
  }
  if (error.keyword === 'additionalProperties') {
    return {
      pointer: `${error.instancePath}/${String(params['additionalProperty'])}`,
      message: 'is not a known field',
    };
  }
  if (error.keyword === 'format') {
    return { pointer: error.instancePath, message: `must be a valid ${describeFormat(String(params['format']))}` };
  }
  return { pointer: error.instancePath, message: error.message ?? 'is invalid' };
}

function describeFormat(format: string): string {
  switch (format) {
    case 'instant':
      return `RFC 3339 date-time with a time zone, no leap second, year ${MIN_YEAR}..${MAX_YEAR} in UTC`;
    case 'calendar-date':
      return `calendar date YYYY-MM-DD, year ${MIN_YEAR}..${MAX_YEAR}`;
    case 'opaque-id':
      return 'opaque id (letters, digits, . _ : -; not an e-mail or phone number)';
    case 'code':
      return 'code (a-z, 0-9, -; not a phone number)';
    case 'text':
      return 'text (not blank, no control character but tab and line breaks, no invisible override or tag)';
    case 'line':
      return 'line of text (not blank, no line break, no control character, no invisible override or tag)';
    case 'version':
      return 'version (letters, digits, . _ : + -; not a phone number)';
    default:
      return format;
  }
}

/** An instant already in the form `toISOString` writes (UTC, milliseconds): kept as it is. */
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/**
 * Rewrites every `instant` field to UTC ISO form (`toISOString`) so that stored dates compare
 * correctly as strings and hash the same whatever offset the publisher wrote. A value with
 * nothing to rewrite is returned as it is (no copy: most publishers already write UTC).
 */
export function normalizeInstants(schema: TSchema, value: unknown): unknown {
  if (typeof value === 'string') {
    return schema['format'] === 'instant' && !ISO_UTC.test(value) ? new Date(value).toISOString() : value;
  }
  if (Array.isArray(value)) {
    const items = schema['items'] as TSchema | undefined;
    if (!items) return value;
    const normalized = value.map((item) => normalizeInstants(items, item));
    return normalized.every((item, i) => item === value[i]) ? value : normalized;
  }
  const properties = schema['properties'] as Record<string, TSchema> | undefined;
  if (value === null || typeof value !== 'object' || !properties) return value;
  let copy: Record<string, unknown> | null = null;
  for (const [field, inner] of Object.entries(value)) {
    const fieldSchema = properties[field];
    if (!fieldSchema) continue;
    const normalized = normalizeInstants(fieldSchema, inner);
    if (normalized !== inner) (copy ??= { ...value })[field] = normalized;
  }
  return copy ?? value;
}
