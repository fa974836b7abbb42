import { FORGETTING_TYPES, definitionOf, isEventType, type EventData } from './catalog.js';
import type { ContactView } from './contact-view.js';
import { contactIdOfStream, contactScope, orderScope } from './identifiers.js';
import { RuleViolation, UnknownContact } from './errors.js';

export interface ForgetCommand {
  reason: 'inactivity' | 'request';
  requestId?: string;
  runId?: string;
  operatorId?: string;
  legalBasis?: string;
}

/**
 * Decides the anonymization of a contact (DESIGN.md "Forgetting"): refused while the contact is
 * under legal hold, owes or is owed money, or holds a ticket still valid; a no-op (idempotent)
 * when the contact is already forgotten. Keeps country, town and postcode only.
 */
export function decideAnonymization(
  view: ContactView,
  command: ForgetCommand,
  now: Date,
): { type: 'ContactAnonymized'; data: EventData<'ContactAnonymized'> } | null {
  if (view.eventCount === 0) throw new UnknownContact(view.contactId);
  if (view.status !== 'active') return null;
  if (view.legalHold) {
    throw new RuleViolation(
      'the contact is under legal hold',
      'release the legal hold (LegalHoldReleased) before forgetting',
    );
  }
  if (view.balance && view.balance.amount !== 0) {
    throw new RuleViolation('the contact is a debtor or creditor', 'settle the balance to zero before forgetting');
  }
  const valid = ordersStillValid(view, now);
  if (valid.length > 0) {
    throw new RuleViolation('the contact holds a ticket still valid', 'wait until every ticket has ended validity', {
      orders: valid,
    });
  }
  const address = view.details.address ?? {};
  const retained: EventData<'ContactAnonymized'>['retained'] = {};
  if (address.country !== undefined) retained.country = address.country;
  if (address.town !== undefined) retained.town = address.town;
  if (address.postcode !== undefined) retained.postcode = address.postcode;
  return {
    type: 'ContactAnonymized',
    data: {
      reason: command.reason,
      ...(command.requestId !== undefined ? { requestId: command.requestId } : {}),
      ...(command.runId !== undefined ? { runId: command.runId } : {}),
      ...(command.operatorId !== undefined ? { operatorId: command.operatorId } : {}),
      ...(command.legalBasis !== undefined ? { legalBasis: command.legalBasis } : {}),
      retained,
    },
  };
}

/** The orders of a contact whose validity has not ended at `now`. */
export function ordersStillValid(view: Pick<ContactView, 'orders'>, now: Date): string[] {
  const nowIso = now.toISOString();
  return Object.entries(view.orders)
    .filter(([, order]) => order.latestValidUntil !== null && order.latestValidUntil > nowIso)
    .map(([orderId]) => orderId);
}

interface LoggedEvent {
  type: string;
  stream: string;
  data: Record<string, unknown>;
}

export const isForgettingEvent = (event: { type: string }) =>
  (FORGETTING_TYPES as readonly string[]).includes(event.type);

/**
 * The key scopes a forgetting event destroys. Forgetting a contact destroys its own key and the
 * keys of every order in its stream (the buyer's IP and answers are the contact's data too);
 * purging an order destroys that order's key only. Derived from the log, so a restart or a restored
 * keys backup can redo it.
 */
export function forgottenScopes(event: LoggedEvent, stream: readonly LoggedEvent[]): string[] {
  if (event.type === 'OrderDataPurged') return [orderScope(String(event.data['orderId']))];
  const contactId = contactIdOfStream(event.stream);
  if (!contactId || !isForgettingEvent(event)) return [];
  const orders = stream
    .filter(
      (other) =>
        isEventType(other.type) &&
        definitionOf(other.type).scope === 'order' &&
        typeof other.data['orderId'] === 'string',
    )
    .map((other) => orderScope(String(other.data['orderId'])));
  return [contactScope(contactId), ...new Set(orders)];
}

/**
 * The scopes a stream's own forgetting events destroyed, with the event that did: what a reader
 * of that stream must treat as erased whatever a key cache still holds (the log decides, not the
 * cache: another process may have forgotten the contact before this one's shredder caught up).
 */
export function scopesForgottenIn(stream: readonly (LoggedEvent & { id: string })[]): Map<string, string> {
  const forgotten = new Map<string, string>();
  for (const event of stream) {
    if (!isForgettingEvent(event)) continue;
    for (const scope of forgottenScopes(event, stream)) if (!forgotten.has(scope)) forgotten.set(scope, event.id);
  }
  return forgotten;
}
