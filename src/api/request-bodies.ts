import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { InactivityMonths } from '../domain/inactive-contacts.js';
import { ValidationError } from '../domain/errors.js';
import { clearValuesThatLookPersonal } from '../domain/identifiers.js';
import { Code, DayOrInstant, OneOf, OpaqueId, personal, Text, Version } from '../domain/schema-kit.js';
import { describeAjvError, validatorFor } from '../domain/validation.js';

/** The body of POST /v1/batches/inactive-contacts (its defaults: 36 months, now, a simulation). */
export const InactiveBatchRequest = Type.Object(
  {
    inactivityMonths: Type.Optional(InactivityMonths()),
    asOf: Type.Optional(DayOrInstant()),
    simulate: Type.Optional(Type.Boolean()),
    /** The simulation a run applies: its as-of and months are taken; 409 when the outcome changed since. */
    simulationId: Type.Optional(Type.String({ minLength: 1, maxLength: 4096, pattern: '^[A-Za-z0-9_-]+$' })),
  },
  { additionalProperties: false },
);

/** The body of POST /v1/consents/expire (default as-of: now). */
export const ConsentExpiryRequest = Type.Object(
  { asOf: Type.Optional(DayOrInstant()) },
  { additionalProperties: false },
);

/** The body of POST /v1/consent-links/:token: the person's answer on one purpose, and the wording they saw. */
export const ConsentLinkAnswer = Type.Object(
  { purpose: Code(), answer: OneOf(['yes', 'no']), wordingVersion: Type.Optional(Version()) },
  { additionalProperties: false },
);

/** The body of POST /v1/contacts/:id/consent-link (default: 30 days). */
export const ConsentLinkRequest = Type.Object(
  { days: Type.Optional(Type.Integer({ minimum: 1, maximum: 365 })) },
  { additionalProperties: false },
);

/** The body of POST /v1/erasure-requests: who asks, how, and the evidence (sealed under the request's key). */
export const ErasureRequestBody = Type.Object(
  {
    contactId: OpaqueId(),
    channel: OneOf(['email', 'post', 'portal', 'phone', 'desk']),
    evidence: Type.Optional(Text(4000, personal)),
  },
  { additionalProperties: false },
);

/** The body of POST /v1/erasure-requests/:id/refuse: why, as a code (never personal data). */
export const ErasureRefusalBody = Type.Object({ reason: Code() }, { additionalProperties: false });
/** A subscriber's acknowledgement: the id of the forgetting it acted on, as its message carried it. */
export const ErasureAcknowledgementBody = Type.Object(
  { eventId: Type.String({ format: 'uuid', description: 'the forgetting event (the message id, webhook-id)' }) },
  { additionalProperties: false },
);

/**
 * A request body checked against its schema, and its clear fields (every field not marked
 * personal) by the one check of clear values (looksPersonal): the typed body, or a 400 naming
 * each bad field.
 */
export function parseBody<S extends TSchema>(schema: S, body: unknown, what: string): Static<S> {
  const validate = validatorFor(schema);
  if (!validate(body ?? {})) {
    throw new ValidationError(`the ${what} is not valid`, (validate.errors ?? []).map(describeAjvError));
  }
  const valid = (body ?? {}) as Static<S>;
  const properties = (schema['properties'] ?? {}) as Record<string, TSchema>;
  const personalFields = Object.keys(properties).filter((field) => properties[field]!['personal'] === true);
  const personalLooking = clearValuesThatLookPersonal(valid as Record<string, unknown>, personalFields);
  if (personalLooking.length > 0) {
    throw new ValidationError(
      `the ${what} is not valid`,
      personalLooking.map((pointer) => ({ pointer, message: 'looks like an e-mail address or a phone number' })),
    );
  }
  return valid;
}

/** A DayOrInstant already validated, as a Date. */
export const dayOrInstant = (text: string): Date =>
  new Date(/^\d{4}-\d{2}-\d{2}$/.test(text) ? `${text}T00:00:00Z` : text);

const DayOrInstantParam = DayOrInstant();
/** A day written YYYYMMDD, as the reference pages write a target's date ("GDPR Recency is less than 20140512"). */
const COMPACT_DAY = /^(\d{4})(\d{2})(\d{2})$/;

/**
 * A DayOrInstant parameter (a query parameter, a CLI option) as a Date; a 400 naming it otherwise.
 * `compactDay`: a day may also be written YYYYMMDD (checked as the same YYYY-MM-DD: 20230230 is no date).
 */
export function parseDayOrInstant(value: unknown, name: string, { compactDay = false } = {}): Date {
  const compact = compactDay && typeof value === 'string' ? COMPACT_DAY.exec(value) : null;
  const text = compact ? `${compact[1]}-${compact[2]}-${compact[3]}` : value;
  if (typeof text !== 'string' || !validatorFor(DayOrInstantParam)(text)) {
    const days = compactDay ? 'YYYY-MM-DD or YYYYMMDD' : 'YYYY-MM-DD';
    throw new ValidationError(`${name} must be a date (${days}) or an RFC 3339 date-time`, [
      { pointer: `/${name}`, message: 'is not a valid date' },
    ]);
  }
  return dayOrInstant(text);
}
