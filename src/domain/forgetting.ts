import { FORGETTING_TYPES, definitionOf, isEventType, keyScopeOf, type EventData } from './catalog.js';
import type { ContactView } from './contact-view.js';
import { contactIdOfStream, contactScope, orderScope, ticketScope } from './identifiers.js';
import { RuleViolation, UnknownContact } from './errors.js';
import { retainedPlace } from './places.js';

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
 * when the contact is already forgotten. Keeps country, town and postcode only, each a place and
 * nothing else (places.ts).
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
  // Checked again before the copy: an address published before the rule keeps only what passes.
  const retained = retainedPlace(view.details.address);
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

export type ContactForgetting =
  | { type: 'ContactAnonymized'; data: EventData<'ContactAnonymized'> }
  | { type: 'ContactErased'; data: EventData<'ContactErased'> };

/**
 * The one forgetting decision of the batch, of erasure requests and of `ledger forget` (reference:
 * ticketing-gdpr-features-v2.en.txt, "Removing a prospect / anonymizing a contact"): the checks
 * of decideAnonymization, then a customer (bought a ticket, or benefited from one as cultural
 * contact) is anonymized, keeping country, town and postcode, and a prospect is erased, nothing
 * kept. Null when the contact is forgotten already.
 */
export function decideForgetting(
  view: ContactView,
  customer: boolean,
  command: ForgetCommand,
  now: Date,
): ContactForgetting | null {
  const anonymization = decideAnonymization(view, command, now);
  if (!anonymization || customer) return anonymization;
  const { retained: _retained, ...erasure } = anonymization.data;
  return { type: 'ContactErased', data: erasure };
}

/** The latest end of validity of a contact's tickets, or null (none dated). */
export function latestValidUntil(view: Pick<ContactView, 'orders'>): string | null {
  let latest: string | null = null;
  for (const order of Object.values(view.orders)) {
    if (order.latestValidUntil !== null && (latest === null || order.latestValidUntil > latest)) {
      latest = order.latestValidUntil;
    }
  }
  return latest;
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
 * The key scopes a forgetting event destroys (the shredder's work). Forgetting a contact destroys
 * its own key; its tickets and orders keep theirs, unseen (see hiddenScopes), for the security
 * retention of their beneficiaries (DESIGN.md "Forgetting": "Anonymizing a buyer does not purge the
 * beneficiaries of tickets still within that period"), until each ticket is purged (OrderDataPurged,
 * by the inactive batch), which destroys that ticket's key, and the order's own key with the last
 * ticket (`orderEnded`; a purge written before tickets were purged one by one closed the whole
 * order). Derived from the event alone, so a restart or a restored keys backup can redo it.
 */
export function destroyedScopes(event: LoggedEvent): string[] {
  if (event.type === 'OrderDataPurged') {
    const orderId = String(event.data['orderId']);
    const ticketId = event.data['ticketId'];
    const ticket = ticketScope(orderId, typeof ticketId === 'string' ? ticketId : undefined);
    return event.data['orderEnded'] === false ? [ticket] : [...new Set([ticket, orderScope(orderId)])];
  }
  const contactId = contactIdOfStream(event.stream);
  return contactId && isForgettingEvent(event) ? [contactScope(contactId)] : [];
}

/**
 * The scopes whose seals a reader of this stream must treat as erased, with the forgetting event
 * that closed each, whatever a key cache still holds (the log decides, not the cache: another
 * process may have forgotten the contact before this one's shredder caught up): the scopes the
 * stream's forgetting events destroyed, and a forgotten contact's tickets and orders, whose keys
 * are kept for the security retention only and are never opened for a view, a timeline or an export.
 */
export function hiddenScopes(stream: readonly (LoggedEvent & { id: string })[]): Map<string, string> {
  const hidden = new Map<string, string>();
  const hide = (scope: string, by: string) => {
    if (!hidden.has(scope)) hidden.set(scope, by);
  };
  for (const event of stream) {
    if (!isForgettingEvent(event)) continue;
    for (const scope of destroyedScopes(event)) hide(scope, event.id);
    if (event.type === 'OrderDataPurged') continue;
    const contactId = contactIdOfStream(event.stream) ?? '';
    for (const other of stream) {
      if (!isEventType(other.type) || typeof other.data['orderId'] !== 'string') continue;
      const scope = definitionOf(other.type).scope;
      if (scope === 'order' || scope === 'ticket') hide(keyScopeOf(other.type, contactId, other.data), event.id);
    }
  }
  return hidden;
}
