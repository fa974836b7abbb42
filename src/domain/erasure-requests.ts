import { Type, type Static } from '@sinclair/typebox';
import { RuleViolation } from './errors.js';
import { Instant, Nullable, Obj, OneOf } from './schema-kit.js';
import { contactIdOfStream } from './identifiers.js';

/**
 * Erasure on request (DESIGN.md "Forgetting"): a request, the checks, then its execution (the
 * forgetting event names the request) or its refusal (an event with the reason). Due 30 days after
 * it was made; a pending request past its due date is overdue. The request and its outcome live
 * in the contact's stream and outlive the forgetting (the evidence is sealed under its own key).
 */
export const ERASURE_DUE_DAYS = 30;
export const ERASURE_STATUSES = ['pending', 'done', 'refused', 'overdue'] as const;
export type ErasureStatus = (typeof ERASURE_STATUSES)[number];

/** The events a request's life is read from. */
export const ERASURE_REQUEST_TYPES = [
  'ErasureRequested',
  'ErasureRefused',
  'ContactAnonymized',
  'ContactErased',
] as const;

/** A request's fields but its status (the record's, or the view's that knows overdue). */
export const erasureRequestFields = {
  requestId: Type.String({ description: 'ER-…' }),
  contactId: Type.String(),
  channel: Type.String(),
  requestedAt: Instant(),
  dueAt: Instant({ description: 'one month after the request' }),
  /** The event that closed it: the forgetting (done) or the refusal, with the refusal's reason. */
  closedBy: Nullable(
    Obj({ eventId: Type.String(), type: Type.String(), at: Instant(), reason: Type.Optional(Type.String()) }),
  ),
};
export const ErasureRequestRecord = Obj({ ...erasureRequestFields, status: OneOf(['pending', 'done', 'refused']) });
export type ErasureRequestRecord = Static<typeof ErasureRequestRecord>;

interface LoggedEvent {
  id: string;
  type: string;
  stream: string;
  occurredAt: string;
  data: Record<string, unknown>;
}

/**
 * The accountability period: how long a request's evidence stays readable, through the request
 * only (GET /v1/erasure-requests/:id). Five years from the request, the limitation period of a
 * civil action in France (code civil, art. 2224), within which the handling of the request may be
 * disputed and must be proved. Past it the evidence is no longer opened; nothing destroys the
 * request's key yet (README, "An erasure request's evidence").
 */
export const EVIDENCE_KEPT_YEARS = 5;

export function evidenceKeptUntil(requestedAt: string): string {
  const until = new Date(requestedAt);
  until.setUTCFullYear(until.getUTCFullYear() + EVIDENCE_KEPT_YEARS);
  return until.toISOString();
}

export const dueDate = (requestedAt: string): string =>
  new Date(Date.parse(requestedAt) + ERASURE_DUE_DAYS * 86_400_000).toISOString();

/**
 * Every request as the log tells it, in log order. A forgetting closes the contact's pending
 * requests as done, whichever run or request it came from: the person is forgotten.
 */
export function foldErasureRequests(events: Iterable<LoggedEvent>): Map<string, ErasureRequestRecord> {
  const requests = new Map<string, ErasureRequestRecord>();
  for (const event of events) {
    const contactId = contactIdOfStream(event.stream);
    if (!contactId) continue;
    const closedBy = { eventId: event.id, type: event.type, at: event.occurredAt };
    switch (event.type) {
      case 'ErasureRequested': {
        const requestId = String(event.data['requestId']);
        if (requests.has(requestId)) break;
        requests.set(requestId, {
          requestId,
          contactId,
          channel: String(event.data['channel']),
          requestedAt: event.occurredAt,
          dueAt: dueDate(event.occurredAt),
          status: 'pending',
          closedBy: null,
        });
        break;
      }
      case 'ErasureRefused': {
        const request = requests.get(String(event.data['requestId']));
        if (request?.status === 'pending') {
          Object.assign(request, {
            status: 'refused',
            closedBy: { ...closedBy, reason: String(event.data['reason']) },
          });
        }
        break;
      }
      case 'ContactAnonymized':
      case 'ContactErased':
        for (const request of requests.values()) {
          if (request.contactId === contactId && request.status === 'pending') {
            Object.assign(request, { status: 'done', closedBy });
          }
        }
        break;
    }
  }
  return requests;
}

/** A request's status at `now`: a pending one past its due date is overdue. */
export const statusAt = (request: ErasureRequestRecord, now: Date): ErasureStatus =>
  request.status === 'pending' && request.dueAt < now.toISOString() ? 'overdue' : request.status;

/** Only a pending request can be executed or refused. */
export function requirePending(request: ErasureRequestRecord): void {
  if (request.status !== 'pending') {
    throw new RuleViolation(
      `erasure request ${request.requestId} is already ${request.status}`,
      'nothing to do: see closedBy for the event that closed it',
      { requestId: request.requestId, closedBy: request.closedBy },
    );
  }
}
