import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { ValidationError } from '../domain/errors.js';
import { Code, DayOrInstant, OneOf, OpaqueId, Text } from '../domain/schema-kit.js';
import { describeAjvError, validatorFor } from '../domain/validation.js';

/** The body of POST /v1/batches/inactive-contacts (its defaults: 36 months, now, a simulation). */
export const InactiveBatchRequest = Type.Object(
  {
    inactivityMonths: Type.Optional(Type.Integer({ minimum: 1, maximum: 1200 })),
    asOf: Type.Optional(DayOrInstant()),
    simulate: Type.Optional(Type.Boolean()),
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
  { purpose: Code(), answer: OneOf(['yes', 'no']), wordingVersion: Type.Optional(Text(64)) },
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
    evidence: Type.Optional(Text(4000)),
  },
  { additionalProperties: false },
);

/** The body of POST /v1/erasure-requests/:id/refuse: why, as a code (never personal data). */
export const ErasureRefusalBody = Type.Object({ reason: Code() }, { additionalProperties: false });

/** A request body checked against its schema: the typed body, or a 400 naming each bad field. */
export function parseBody<S extends TSchema>(schema: S, body: unknown, what: string): Static<S> {
  const validate = validatorFor(schema);
  if (!validate(body ?? {})) {
    throw new ValidationError(`the ${what} is not valid`, (validate.errors ?? []).map(describeAjvError));
  }
  return (body ?? {}) as Static<S>;
}

/** A DayOrInstant already validated, as a Date. */
export const dayOrInstant = (text: string): Date =>
  new Date(/^\d{4}-\d{2}-\d{2}$/.test(text) ? `${text}T00:00:00Z` : text);

const DayOrInstantParam = DayOrInstant();
/** A DayOrInstant parameter (a query parameter, a CLI option) as a Date; a 400 naming it otherwise. */
export function parseDayOrInstant(value: unknown, name: string): Date {
  if (typeof value !== 'string' || !validatorFor(DayOrInstantParam)(value)) {
    throw new ValidationError(`${name} must be a date (YYYY-MM-DD) or an RFC 3339 date-time`, [
      { pointer: `/${name}`, message: 'is not a valid date' },
    ]);
  }
  return dayOrInstant(value);
}
