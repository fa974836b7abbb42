import { Type, type TObject, type TProperties, type Static, type TSchema } from '@sinclair/typebox';
import { PLACE_RULES, POSTCODE_MAX_LENGTH, TOWN_MAX_LENGTH } from './places.js';

/**
 * Building blocks of the event catalog. A field is personal when its schema carries
 * `personal: true`: the same definition gives the TypeScript type, the ajv validator and the
 * list of fields that are sealed before they reach the store.
 */

/** An object whose fields are all named: none unknown (an answer's new field must be documented). */
export const Obj = <T extends TProperties>(properties: T, options: Record<string, unknown> = {}) =>
  Type.Object(properties, { additionalProperties: false, ...options });
/** A value, or null. */
export const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

/** Marks a field as personal data: it is sealed with the event type's key scope. */
export const personal = { personal: true } as const;

/** Opaque identifier (customer number, order id...): never an e-mail or a phone number. */
export const OpaqueId = (options: Record<string, unknown> = {}) => Type.String({ format: 'opaque-id', ...options });

/** RFC 3339 instant with a time zone, no leap second, year 1900..2199 in UTC; normalised to UTC at the boundary. */
export const Instant = (options: Record<string, unknown> = {}) => Type.String({ format: 'instant', ...options });
/** Calendar date (YYYY-MM-DD), year 1900..2199. */
export const CalendarDate = (options: Record<string, unknown> = {}) =>
  Type.String({ format: 'calendar-date', ...options });
/** A day (YYYY-MM-DD, midnight UTC) or an RFC 3339 instant, wherever a date is taken. */
export const DayOrInstant = () => Type.Union([CalendarDate(), Instant()]);
/** One of a fixed set of strings (an enum: one clear error message instead of one per literal). */
export const OneOf = <const T extends readonly string[]>(values: T, options: Record<string, unknown> = {}) =>
  Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...options });
/**
 * A short machine code (purpose, reason, channel...): slugs only, so no free text hides personal
 * data, and none that looks like a phone number (`0612345678` is a slug).
 */
export const Code = () => Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,63}$', format: 'code' });
/** Text people write (a note, an answer): see the `text` format (validation.ts). */
export const Text = (maxLength: number, options: Record<string, unknown> = {}) =>
  Type.String({ minLength: 1, maxLength, format: 'text', ...options });
/** One line of it (a name, an address line, a time zone): the `line` format. */
export const Line = (maxLength: number, options: Record<string, unknown> = {}) =>
  Type.String({ minLength: 1, maxLength, format: 'line', ...options });
/** The formats of the text rules: checked on what is written, not on what was stored before a rule. */
const TEXT_RULE_FORMATS = new Set(['text', 'line', 'version']);

/**
 * An input schema as an answer shows what it took: the same, but for the text rules, since values
 * stored before one (an invisible character in an old street) are shown as they were stored.
 */
export function asStored<T extends TSchema>(schema: T): T {
  const copy = { ...schema } as Record<string | symbol, unknown>;
  if (TEXT_RULE_FORMATS.has(copy['format'] as string)) delete copy['format'];
  const properties = copy['properties'] as Record<string, TSchema> | undefined;
  if (properties) {
    copy['properties'] = Object.fromEntries(Object.entries(properties).map(([name, inner]) => [name, asStored(inner)]));
  }
  if (copy['items']) copy['items'] = asStored(copy['items'] as TSchema);
  for (const list of ['anyOf', 'oneOf', 'allOf']) {
    if (Array.isArray(copy[list])) copy[list] = (copy[list] as TSchema[]).map((inner) => asStored(inner));
  }
  return copy as T;
}

/** The version of a wording or a policy, kept in clear (the `version` format). */
export const Version = () => Type.String({ format: 'version', maxLength: 64 });
export const Email = (options: Record<string, unknown> = {}) =>
  Type.String({ format: 'email', maxLength: 254, ...options });
/**
 * The parts of a place that an anonymization or a purge keeps in clear (places.ts): the `place`
 * keyword runs placeIssue, the check retention runs again; the length is repeated for the reader
 * of the API document.
 */
export const Country = () => Type.String({ place: 'country', description: PLACE_RULES.country });
export const Town = () => Type.String({ place: 'town', maxLength: TOWN_MAX_LENGTH, description: PLACE_RULES.town });
export const Postcode = () =>
  Type.String({ place: 'postcode', maxLength: POSTCODE_MAX_LENGTH, description: PLACE_RULES.postcode });

export const Address = (options: Record<string, unknown> = {}) =>
  Type.Object(
    {
      street: Type.Optional(Line(200)),
      line2: Type.Optional(Line(200)),
      postcode: Type.Optional(Postcode()),
      town: Type.Optional(Town()),
      country: Type.Optional(Country()),
    },
    { additionalProperties: false, ...options },
  );

/** Where an event comes from: published by upstream systems, or written by the ledger only. */
export type Origin = 'upstream' | 'ledger';
/**
 * Which key seals the personal fields: the contact's, the order's (`data.orderId`), the ticket's
 * (`data.orderId` and `data.ticketId`: see identifiers.ts ticketScope) or the request's.
 */
export type KeyScopeKind = 'contact' | 'order' | 'ticket' | 'request';

export interface EventDefinition<T extends string = string, S extends TSchema = TSchema> {
  type: T;
  schema: S;
  origin: Origin;
  scope: KeyScopeKind;
  /** Top-level data fields marked personal in the schema, derived once. */
  personalFields: readonly string[];
  /** Top-level fields of free text an operator writes (notes, remarks): the text guard reads them. */
  freeTextFields: readonly string[];
  /** Rules a JSON Schema cannot say well (cross-field); returns [pointer, message] pairs. */
  check?(data: Static<S>): Array<[string, string]>;
  /** The operator's duties (a consent, a legal mention): a refusal says what to do (422). */
  rules?(data: Static<S>): OperatorRuleFailure[];
}

/** A duty of the operator that the event does not show was met, and what to do about it. */
export interface OperatorRuleFailure {
  pointer: string;
  message: string;
  action: string;
}

export function defineEvent<const T extends string, P extends TProperties>(
  type: T,
  properties: P,
  options: {
    origin?: Origin;
    scope?: KeyScopeKind;
    check?: (data: Static<TObject<P>>) => Array<[string, string]>;
    rules?: (data: Static<TObject<P>>) => OperatorRuleFailure[];
  } = {},
): EventDefinition<T, TObject<P>> {
  const schema = Type.Object(properties, { additionalProperties: false, title: type });
  const fieldsMarked = (mark: string) =>
    Object.entries(properties as Record<string, TSchema>)
      .filter(([, field]) => field[mark] === true)
      .map(([name]) => name);
  const personalFields = fieldsMarked('personal');
  return {
    type,
    schema,
    origin: options.origin ?? 'upstream',
    scope: options.scope ?? 'contact',
    personalFields,
    freeTextFields: fieldsMarked('freeText'),
    ...(options.check ? { check: options.check } : {}),
    ...(options.rules ? { rules: options.rules } : {}),
  };
}
