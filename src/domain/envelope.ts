import { Type, type Static } from '@sinclair/typebox';
import { Instant, OpaqueId } from './schema-kit.js';
import { definitionOf, isEventType, type EventType } from './catalog.js';
import { describeAjvError, normalizeInstants, validatorFor } from './validation.js';
import { PayloadTooLarge, RuleViolation, ValidationError, type InputIssue } from './errors.js';
import { clearValuesThatLookPersonal } from './identifiers.js';

/** What upstream systems publish (DESIGN.md "Events"). */
export const Envelope = Type.Object(
  {
    id: Type.Optional(Type.String({ format: 'uuid', description: 'idempotency key; generated when absent' })),
    type: Type.String({ minLength: 1, maxLength: 64 }),
    contactId: OpaqueId(),
    organizationId: OpaqueId(),
    occurredAt: Instant(),
    expectedRevision: Type.Optional(Type.Integer({ minimum: -1, description: '-1: the stream must not exist yet' })),
    data: Type.Object({}, { additionalProperties: true }),
  },
  { additionalProperties: false },
);
export type Envelope = Static<typeof Envelope>;

/** A publish body: one envelope, or a batch `{ events: [...] }`. */
export const MAX_BATCH = 1000;
/** Upstream clocks may run a little ahead; further than this is a wrong date, not skew. */
const MAX_CLOCK_SKEW_MS = 24 * 3600 * 1000;

export interface ValidEvent {
  id: string;
  type: EventType;
  contactId: string;
  organizationId: string;
  /** Normalised to UTC (`toISOString`), so dates compare as strings. */
  occurredAt: string;
  expectedRevision?: number;
  data: Record<string, unknown>;
}

/** A duty an event of a published batch did not meet, and what the operator must do. */
export type UnmetDuty = InputIssue & { index: number; action: string };

/** The 422 refusing a batch for its unmet duties: each named by event index, none appended. */
export const unmetDutiesError = (duties: readonly UnmetDuty[]) =>
  new RuleViolation(
    `${duties.map((duty) => `event ${duty.index}: ${duty.message}`).join('; ')}; nothing was appended`,
    [...new Set(duties.map((duty) => duty.action))].join('; '),
    { errors: duties },
  );

export interface EnvelopeOptions {
  now: Date;
  newId: () => string;
  /** Types the caller may publish: upstream publishers never write ledger-only events. */
  allowLedgerTypes?: boolean;
}

/** Splits a publish body into envelopes, refusing an empty or oversized batch. */
export function envelopesOf(body: unknown): unknown[] {
  if (body !== null && typeof body === 'object' && !Array.isArray(body) && 'events' in body) {
    const { events } = body as { events: unknown };
    if (!Array.isArray(events))
      throw new ValidationError('events must be an array', [{ pointer: '/events', message: 'must be an array' }]);
    if (events.length === 0)
      throw new ValidationError('the batch is empty', [{ pointer: '/events', message: 'must not be empty' }]);
    if (events.length > MAX_BATCH)
      throw new PayloadTooLarge(`a batch holds at most ${MAX_BATCH} events, got ${events.length}`);
    return events;
  }
  return [body];
}

/**
 * Validates every envelope of a batch before anything is appended: all issues of all events are
 * reported together, each with its event index and JSON pointer.
 */
export function validateEnvelopes(envelopes: unknown[], options: EnvelopeOptions): ValidEvent[] {
  const issues: InputIssue[] = [];
  const ledgerOnly: Array<{ index: number; type: string }> = [];
  const unmetDuties: UnmetDuty[] = [];
  const seenIds = new Map<string, number>();
  const valid: ValidEvent[] = [];
  envelopes.forEach((envelope, index) => {
    const before = issues.length;
    const report = (pointer: string, message: string) => issues.push({ index, pointer, message });
    const checkEnvelope = validatorFor(Envelope);
    if (!checkEnvelope(envelope)) {
      for (const error of checkEnvelope.errors ?? []) {
        const { pointer, message } = describeAjvError(error);
        report(pointer, message);
      }
      if (!isPlainObject(envelope) || typeof envelope['type'] !== 'string') return;
    }
    const candidate = envelope as Envelope;
    if (!isEventType(candidate.type)) {
      report('/type', 'is not a known event type');
      return;
    }
    const definition = definitionOf(candidate.type);
    if (definition.origin === 'ledger' && !options.allowLedgerTypes) {
      ledgerOnly.push({ index, type: candidate.type });
      return;
    }
    if (isPlainObject(candidate.data)) {
      const checkData = validatorFor(definition.schema);
      if (!checkData(candidate.data)) {
        for (const error of checkData.errors ?? []) {
          const { pointer, message } = describeAjvError(error);
          report(`/data${pointer}`, message);
        }
      } else {
        for (const [pointer, message] of definition.check?.(candidate.data as never) ?? [])
          report(`/data${pointer}`, message);
        for (const pointer of clearValuesThatLookPersonal(candidate.data, definition.personalFields, '/data')) {
          report(pointer, 'looks like an e-mail address or a phone number: personal data goes in sealed fields only');
        }
        for (const { pointer, message, action } of definition.rules?.(candidate.data as never) ?? []) {
          unmetDuties.push({ index, pointer: `/data${pointer}`, message, action });
        }
      }
    }
    if (
      typeof candidate.occurredAt === 'string' &&
      Date.parse(candidate.occurredAt) > options.now.getTime() + MAX_CLOCK_SKEW_MS
    ) {
      report('/occurredAt', 'lies in the future');
    }
    if (candidate.id !== undefined) {
      const first = seenIds.get(candidate.id);
      if (first !== undefined) report('/id', `repeats the id of event ${first} in the same batch`);
      else seenIds.set(candidate.id, index);
    }
    if (issues.length > before) return;
    valid.push({
      id: candidate.id ?? options.newId(),
      type: candidate.type,
      contactId: candidate.contactId,
      organizationId: candidate.organizationId,
      occurredAt: normalizeInstants(Envelope.properties.occurredAt, candidate.occurredAt) as string,
      ...(candidate.expectedRevision !== undefined ? { expectedRevision: candidate.expectedRevision } : {}),
      data: normalizeInstants(definition.schema, candidate.data) as Record<string, unknown>,
    });
  });
  if (issues.length > 0) {
    const events = new Set(issues.map((issue) => issue.index)).size;
    throw new ValidationError(
      `${issues.length} problem(s) in ${events} event(s); nothing was appended`,
      dedupe(issues),
    );
  }
  if (unmetDuties.length > 0) throw unmetDutiesError(unmetDuties);
  if (ledgerOnly.length > 0) {
    throw new RuleViolation(
      `${ledgerOnly.map((e) => `event ${e.index} (${e.type})`).join(', ')}: ` +
        'written by the ledger only; nothing was appended',
      'use the ledger operations (forgetting, consent expiry) instead of publishing these types',
      {
        errors: ledgerOnly.map((e) => ({ index: e.index, pointer: '/type', message: 'is written by the ledger only' })),
      },
    );
  }
  return valid;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** ajv may report one field several times (a format and a length); one line per field is enough. */
function dedupe(issues: InputIssue[]): InputIssue[] {
  const seen = new Set<string>();
  return issues.filter((issue) => {
    const key = `${issue.index}:${issue.pointer}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
