import { Type, type Static } from '@sinclair/typebox';
import { RuleViolation } from './errors.js';
import { Instant, Nullable, Obj, OneOf } from './schema-kit.js';
import { contactIdOfStream } from './identifiers.js';
import { confirmersOf } from './erasure-confirmations.js';
import {
  evolveSubscribers,
  SUBSCRIBER_EVENT_TYPES,
  SUBSCRIBERS_STREAM,
  type SubscriberEvent,
  type SubscribersState,
} from './subscribers.js';

/**
 * Erasure on request (DESIGN.md "Forgetting"): a request, the checks, then its execution (the
 * forgetting event names the request) or its refusal (an event with the reason). Due 30 days after
 * it was made; a pending request past its due date is overdue. The request and its outcome live
 * in the contact's stream and outlive the forgetting (the evidence is sealed under its own key).
 *
 * Forgotten in the ledger, a request may still wait on downstream systems (issue 27): those
 * configured with `confirmsErasure` when the forgetting was appended (see confirmersOf). It is
 * `awaiting-confirmation` until each has confirmed (an ErasureConfirmed event), then `done`: done
 * means forgotten everywhere the ledger knows of, so with no such system it is done at once, as
 * before. Past the due date, a request pending or awaiting confirmation is overdue.
 */
export const ERASURE_DUE_DAYS = 30;
export const ERASURE_STATUSES = ['pending', 'awaiting-confirmation', 'done', 'refused', 'overdue'] as const;
export type ErasureStatus = (typeof ERASURE_STATUSES)[number];

/** The events a request's life is read from (by a partial index of the store: see LEDGER_EVENT_INDEXES). */
export const ERASURE_REQUEST_TYPES = [
  'ErasureRequested',
  'ErasureRefused',
  'ContactAnonymized',
  'ContactErased',
] as const;
/** The downstream confirmations, indexed apart: a group of its own leaves the requests' index as it was. */
export const ERASURE_CONFIRMATION_TYPES = ['ErasureConfirmed'] as const;

/** A downstream system's word on a request's forgetting: awaited, or given (by which event, when). */
export const DownstreamConfirmation = Obj(
  {
    subscriber: Type.String({ description: 'the subscriber (confirmsErasure) whose word is awaited' }),
    status: OneOf(['pending', 'confirmed']),
    confirmedBy: Nullable(Obj({ eventId: Type.String({ description: 'the ErasureConfirmed event' }), at: Instant() })),
  },
  { title: 'DownstreamConfirmation' },
);
export type DownstreamConfirmation = Static<typeof DownstreamConfirmation>;

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
  downstream: Type.Array(DownstreamConfirmation, {
    description:
      'per subscriber configured with confirmsErasure when the forgetting was appended: pending or ' +
      'confirmed; the request is done once all have confirmed (empty before the forgetting, or when none)',
  }),
};
export const ErasureRequestRecord = Obj({
  ...erasureRequestFields,
  status: OneOf(['pending', 'awaiting-confirmation', 'done', 'refused']),
});
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
 * requests, whichever run or request it came from: the person is forgotten; each then waits for
 * the subscribers configured to confirm it at that point of the log, so the subscribers stream's
 * events come in too, merged by position (none: no system is waited for). An ErasureConfirmed
 * records a subscriber's word on the forgetting it names; the last awaited makes the request done.
 */
export function foldErasureRequests(events: Iterable<LoggedEvent>): Map<string, ErasureRequestRecord> {
  const requests = new Map<string, ErasureRequestRecord>();
  const byForgetting = new Map<string, ErasureRequestRecord[]>();
  let subscribers: SubscribersState = new Map();
  for (const event of events) {
    if (event.stream === SUBSCRIBERS_STREAM) {
      if (SUBSCRIBER_EVENT_TYPES.has(event.type))
        subscribers = evolveSubscribers(subscribers, event as unknown as SubscriberEvent);
      continue;
    }
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
          downstream: [],
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
      case 'ContactErased': {
        const awaited = confirmersOf(subscribers, event.type);
        const closed: ErasureRequestRecord[] = [];
        for (const request of requests.values()) {
          if (request.contactId === contactId && request.status === 'pending') {
            Object.assign(request, {
              status: awaited.length > 0 ? 'awaiting-confirmation' : 'done',
              closedBy,
              downstream: awaited.map((subscriber) => ({ subscriber, status: 'pending', confirmedBy: null })),
            });
            closed.push(request);
          }
        }
        if (closed.length > 0) byForgetting.set(event.id, closed);
        break;
      }
      case 'ErasureConfirmed': {
        const confirmedBy = { eventId: event.id, at: event.occurredAt };
        for (const request of byForgetting.get(String(event.data['eventId'])) ?? []) {
          const awaited = request.downstream.find(
            (entry) => entry.subscriber === event.data['subscriber'] && entry.status === 'pending',
          );
          if (!awaited) continue;
          Object.assign(awaited, { status: 'confirmed', confirmedBy });
          if (request.downstream.every((entry) => entry.status === 'confirmed')) request.status = 'done';
        }
        break;
      }
    }
  }
  return requests;
}

/** A request's status at `now`: one pending, or awaiting a downstream confirmation, past its due date is overdue. */
export const statusAt = (request: ErasureRequestRecord, now: Date): ErasureStatus =>
  (request.status === 'pending' || request.status === 'awaiting-confirmation') && request.dueAt < now.toISOString()
    ? 'overdue'
    : request.status;

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
