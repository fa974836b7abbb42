import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { ValidationError } from '../domain/errors.js';
import { CalendarDate, Code, Instant, OneOf, OpaqueId, Text } from '../domain/schema-kit.js';
import { describeAjvError, validatorFor } from '../domain/validation.js';

/** The body of POST /v1/batches/inactive-contacts (its defaults: 36 months, now, a simulation). */
export const InactiveBatchRequest = Type.Object(
  {
    inactivityMonths: Type.Optional(Type.Integer({ minimum: 1, maximum: 1200 })),
    asOf: Type.Optional(Type.Union([CalendarDate(), Instant()])),
    simulate: Type.Optional(Type.Boolean()),
  },
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

/** A calendar date (midnight UTC) or an instant, as a Date. */
export const dayOrInstant = (text: string): Date =>
  new Date(/^\d{4}-\d{2}-\d{2}$/.test(text) ? `${text}T00:00:00Z` : text);
