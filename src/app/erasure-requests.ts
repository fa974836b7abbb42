import { Type, type Static } from '@sinclair/typebox';
import { Instant, Nullable, Obj, OneOf, personal } from '../domain/schema-kit.js';
import {
  dueDate,
  ERASURE_CONFIRMATION_TYPES,
  ERASURE_STATUSES,
  erasureRequestFields,
  ERASURE_REQUEST_TYPES,
  evidenceKeptUntil,
  foldErasureRequests,
  requirePending,
  statusAt,
  type ErasureRequestRecord,
  type ErasureStatus,
} from '../domain/erasure-requests.js';
import { Forgotten, UnknownContact, UnknownErasureRequest } from '../domain/errors.js';
import { CONTACT_FORGETTING_TYPES } from '../domain/catalog.js';
import { contactStream } from '../domain/identifiers.js';
import { SUBSCRIBERS_STREAM } from '../domain/subscribers.js';
import type { EventStore, StoredEvent } from '../store/event-store.js';
import { pagesAfter } from '../store/pages.js';
import { forgetContact } from './forget-contact.js';
import { openEvent } from './sealing.js';
import { handleCommand } from './handle-command.js';
import type { LedgerContext } from './ledger-context.js';

/** A request as the API shows it: its status now (overdue included); never its evidence. */
export const ErasureRequestView = Obj(
  { ...erasureRequestFields, status: OneOf(ERASURE_STATUSES) },
  { title: 'ErasureRequest' },
);
export type ErasureRequestView = Static<typeof ErasureRequestView>;

const viewOf = (request: ErasureRequestRecord, now: Date): ErasureRequestView => ({
  ...request,
  status: statusAt(request, now),
});

/** One request with its evidence, as only the route of that request shows it (operators). */
export const ErasureRequestWithEvidence = Obj(
  {
    ...ErasureRequestView.properties,
    evidence: Nullable(Type.String({ ...personal })),
    evidenceState: OneOf(['open', 'none', 'erased', 'period-ended'], {
      description:
        'none: the request came without evidence; erased: its key was destroyed; period-ended: past ' +
        'evidenceKeptUntil, the evidence is no longer opened',
    }),
    evidenceKeptUntil: Instant({ description: 'the end of the accountability period (5 years after the request)' }),
  },
  { title: 'ErasureRequestWithEvidence' },
);
export type ErasureRequestWithEvidence = Static<typeof ErasureRequestWithEvidence>;

/**
 * A request with its evidence opened, whether or not the person is forgotten: the evidence is
 * sealed under the request's own key, which outlives the person for the accountability period,
 * and this is the one place that opens it (a forgotten person's timeline and export withhold it).
 */
export async function erasureRequestWithEvidence(
  context: LedgerContext,
  requestId: string,
): Promise<ErasureRequestWithEvidence> {
  const request = (await erasureRequests(context)).get(requestId);
  if (!request) throw new UnknownErasureRequest(requestId);
  const now = context.now();
  const keptUntil = evidenceKeptUntil(request.requestedAt);
  const shown = (evidence: string | null, evidenceState: ErasureRequestWithEvidence['evidenceState']) => ({
    ...viewOf(request, now),
    evidence,
    evidenceState,
    evidenceKeptUntil: keptUntil,
  });
  // The first ErasureRequested of that id, as foldErasureRequests counts it.
  const requested = (await context.store.readStream(contactStream(request.contactId))).find(
    (event) => event.type === 'ErasureRequested' && event.data['requestId'] === requestId,
  );
  if (!requested?.sealed) return shown(null, 'none');
  if (now.toISOString() >= keptUntil) return shown(null, 'period-ended');
  const opened = await openEvent(requested, context.keys);
  return opened.personal === 'open' ? shown(String(opened.data['evidence']), 'open') : shown(null, 'erased');
}

/**
 * Records a person's request to be forgotten, with its evidence sealed under the request's own
 * key (kept when the person is forgotten). 404 for an unknown contact, 410 for one already
 * forgotten. `reusePending` (the privacy center's): a request still pending is answered instead
 * of a second one, decided on the stream as read, so a double click never makes two.
 */
export async function requestErasure(
  context: LedgerContext,
  command: { contactId: string; channel: string; evidence?: string; ipAddress?: string; reusePending?: boolean },
): Promise<ErasureRequestView> {
  const { contactId, channel, evidence, ipAddress, reusePending = false } = command;
  const requestId = `ER-${context.newId()}`;
  const { result } = await handleCommand(context, contactStream(contactId), {
    // Whether the person is forgotten is read from the stream's types: no seal needs opening.
    state: async (stored) => {
      if (stored.length === 0) throw new UnknownContact(contactId);
      const forgetting = stored.find((event) => (CONTACT_FORGETTING_TYPES as readonly string[]).includes(event.type));
      const pending = [...foldErasureRequests(stored).values()].find((request) => request.status === 'pending');
      return { forgottenBy: forgetting?.id ?? null, organizationId: stored[0]!.organizationId, pending };
    },
    decide: ({ forgottenBy, organizationId, pending }, now) => {
      if (forgottenBy) throw new Forgotten(`contact:${contactId}`, forgottenBy);
      if (reusePending && pending) return { events: [], result: viewOf(pending, now) };
      const data = {
        requestId,
        channel,
        ...(evidence !== undefined ? { evidence } : {}),
        ...(ipAddress !== undefined ? { ipAddress } : {}),
      };
      const requestedAt = now.toISOString();
      const request = { requestId, contactId, channel, requestedAt, dueAt: dueDate(requestedAt) };
      return {
        events: [{ type: 'ErasureRequested', contactId, organizationId, data }],
        result: { ...request, status: 'pending' as const, closedBy: null, downstream: [] },
      };
    },
  });
  return result;
}

/** Every erasure request, or those of one status (overdue: pending or awaiting confirmation past due), oldest first. */
export async function listErasureRequests(
  context: LedgerContext,
  status?: ErasureStatus,
): Promise<ErasureRequestView[]> {
  const now = context.now();
  return [...(await erasureRequests(context)).values()]
    .map((request) => viewOf(request, now))
    .filter((request) => status === undefined || request.status === status);
}

/**
 * Executes a pending request: the checks (no legal hold, no balance, no ticket still valid; a
 * 422 naming what blocks leaves it pending), then the forgetting that names it, decided on the
 * stream as read (a customer anonymized, a prospect erased). The shredder destroys the keys.
 */
export async function executeErasure(
  context: LedgerContext,
  requestId: string,
  operatorId?: string,
): Promise<{ request: ErasureRequestView; forgettingEvent: Pick<StoredEvent, 'id' | 'type' | 'stream' | 'data'> }> {
  const request = await pendingRequest(context, requestId);
  const command = { reason: 'request' as const, requestId, ...(operatorId !== undefined ? { operatorId } : {}) };
  const { forgettingEvent, alreadyForgotten } = await forgetContact(context, request.contactId, command);
  if (alreadyForgotten) {
    // Forgotten meanwhile: the forgetting closed the request, as the log now says.
    requirePending((await erasureRequests(context)).get(requestId)!);
    throw new Error(`erasure request ${requestId} found nothing to forget`);
  }
  // As the log now says: done, or awaiting the subscribers that confirm erasure.
  return { request: viewOf((await erasureRequests(context)).get(requestId)!, context.now()), forgettingEvent };
}

/** Refuses a pending request with a reason (a code, never personal data): an event, not just an answer. */
export async function refuseErasure(
  context: LedgerContext,
  requestId: string,
  reason: string,
): Promise<ErasureRequestView> {
  const request = await pendingRequest(context, requestId);
  const { contactId } = request;
  const { appended } = await handleCommand(context, contactStream(contactId), {
    state: async (stored) => ({
      current: foldErasureRequests(stored).get(requestId)!,
      organizationId: stored[0]!.organizationId,
    }),
    decide: ({ current, organizationId }) => {
      requirePending(current); // decided on the stream as read: a concurrent execution wins
      const data = { requestId, reason };
      return { events: [{ type: 'ErasureRefused', contactId, organizationId, data }], result: null };
    },
  });
  const event = appended[0]!;
  return {
    ...request,
    status: 'refused',
    closedBy: { eventId: event.id, type: event.type, at: event.occurredAt, reason },
  };
}

/**
 * Every request of the log, with its downstream confirmations (what an erasure certificate lists):
 * the events of a request's life and the confirmations, each read by an index of the store, and the
 * subscribers stream (who was to confirm when), folded together in log order.
 */
export async function erasureRequests(
  context: Pick<LedgerContext, 'store'>,
): Promise<Map<string, ErasureRequestRecord>> {
  const [requests, confirmations, subscribers] = await Promise.all([
    readTypes(context.store, ERASURE_REQUEST_TYPES),
    readTypes(context.store, ERASURE_CONFIRMATION_TYPES),
    context.store.readStream(SUBSCRIBERS_STREAM),
  ]);
  return foldErasureRequests([...requests, ...confirmations, ...subscribers].sort((a, b) => a.position - b.position));
}

async function readTypes(store: EventStore, types: readonly string[]): Promise<StoredEvent[]> {
  const events: StoredEvent[] = [];
  for await (const page of pagesAfter((after, limit) => store.readByTypes(types, { after, limit }), 0, 1000)) {
    events.push(...page);
  }
  return events;
}

async function pendingRequest(context: LedgerContext, requestId: string): Promise<ErasureRequestRecord> {
  const request = (await erasureRequests(context)).get(requestId);
  if (!request) throw new UnknownErasureRequest(requestId);
  requirePending(request);
  return request;
}
