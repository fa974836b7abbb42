import { isEventType } from '../domain/catalog.js';
import { anyConsentYes, evolveConsents, type ConsentState } from '../domain/consent.js';
import { evolveContactFlags } from '../domain/contact-flags.js';
import { contactIdOfStream } from '../domain/identifiers.js';
import { recencyFacts, type RecencyInput } from '../domain/recency.js';
import type { StoredEvent } from '../store/event-store.js';
import { applyRecencyFact, markBenefited, newContactRecord, type ContactRecord } from './contact-record.js';

/** What a batch changes in the read models; every backend writes it in one transaction. */
export interface ReadModelChanges {
  contacts: ContactRecord[];
  consents: Array<{ contactId: string; purpose: string; status: string; changedAt: string }>;
  /** One entry per order: the contact of its earliest event, its latest end of validity. */
  orders: Array<{ orderId: string; contactId: string; firstPosition: number; validUntil: string | null }>;
  purgedOrders: string[];
  /** Contacts whose indexed e-mail changed: the new blind-index hash, or null (forgotten). */
  emails: Map<string, string | null>;
}

/** The rows a batch folds over, loaded by the caller before folding. */
export interface LoadedRows {
  contacts: ReadonlyMap<string, ContactRecord>;
  consents: ReadonlyMap<string, ConsentState>;
}

const CONSENT_TYPES = new Set(['ConsentGiven', 'ConsentWithdrawn', 'ConsentExpired']);
const ORDER_TYPES = new Set(['OptionTaken', 'OptionConfirmed', 'ReservationMade', 'TicketSold']);

/** The batch's events as the domain folds see them (ledger events of contact streams only). */
export function domainEvents(events: readonly StoredEvent[]): RecencyInput[] {
  const result: RecencyInput[] = [];
  for (const stored of events) {
    const contactId = contactIdOfStream(stored.stream);
    if (!contactId || !isEventType(stored.type)) continue;
    result.push({ id: stored.id, type: stored.type, contactId, position: stored.position, occurredAt: stored.occurredAt, data: stored.data });
  }
  return result;
}

/** The contacts whose rows a batch reads (and those whose consents it reads). */
export function rowsTouched(events: readonly RecencyInput[]): { contacts: string[]; consents: string[] } {
  const contacts = new Set<string>();
  const consents = new Set<string>();
  for (const event of events) {
    contacts.add(event.contactId);
    const cultural = event.data['culturalContactId'];
    if (typeof cultural === 'string') contacts.add(cultural);
    if (CONSENT_TYPES.has(event.type)) consents.add(event.contactId);
  }
  return { contacts: [...contacts], consents: [...consents] };
}

/**
 * Folds a batch over the rows it touches, in memory: contact flags and exact recency, consents,
 * orders and the e-mail index. Pure; the changes are then written with the checkpoint.
 */
export function foldBatch(events: readonly RecencyInput[], emailHashes: ReadonlyMap<string, string>, loaded: LoadedRows): ReadModelChanges {
  const contacts = new Map<string, ContactRecord>();
  const consents = new Map<string, ConsentState>();
  const dirtyConsents = new Map<string, Set<string>>();
  const orders = new Map<string, ReadModelChanges['orders'][number]>();
  const purgedOrders = new Set<string>();
  const emails = new Map<string, string | null>();
  const record = (contactId: string) => contacts.get(contactId) ?? loaded.contacts.get(contactId) ?? newContactRecord(contactId);

  for (const event of events) {
    const { contactId } = event;
    contacts.set(contactId, evolveContactFlags(record(contactId), event));
    let stillYes = false;
    if (CONSENT_TYPES.has(event.type)) {
      const after = evolveConsents(consents.get(contactId) ?? loaded.consents.get(contactId) ?? {}, event);
      consents.set(contactId, after);
      const purposes = dirtyConsents.get(contactId) ?? new Set<string>();
      purposes.add(String(event.data['purpose']));
      dirtyConsents.set(contactId, purposes);
      stillYes = anyConsentYes(after);
    }
    for (const fact of recencyFacts(event, stillYes)) contacts.set(fact.contactId, applyRecencyFact(record(fact.contactId), fact));
    const cultural = event.data['culturalContactId'];
    if (event.type === 'TicketSold' && typeof cultural === 'string') contacts.set(cultural, markBenefited(record(cultural)));

    const orderId = event.data['orderId'];
    if (typeof orderId === 'string') {
      if (event.type === 'OrderDataPurged') purgedOrders.add(orderId);
      else if (ORDER_TYPES.has(event.type)) orders.set(orderId, mergeOrder(orders.get(orderId), event, orderId));
    }
    // One address per contact in the index: a new one replaces it; forgetting removes it.
    const emailHash = emailHashes.get(event.id);
    if (event.type === 'ContactAnonymized' || event.type === 'ContactErased') emails.set(contactId, null);
    else if (emailHash) emails.set(contactId, emailHash);
  }

  const changedConsents: ReadModelChanges['consents'] = [];
  for (const [contactId, purposes] of dirtyConsents) {
    const state = consents.get(contactId) ?? {};
    for (const purpose of purposes) {
      const consent = state[purpose];
      if (consent) changedConsents.push({ contactId, purpose, status: consent.status, changedAt: consent.changedAt });
    }
  }
  return { contacts: [...contacts.values()], consents: changedConsents, orders: [...orders.values()], purgedOrders: [...purgedOrders], emails };
}

/** The order belongs to the contact of its first event in the log, whatever the folding order. */
function mergeOrder(known: ReadModelChanges['orders'][number] | undefined, event: RecencyInput, orderId: string) {
  const validUntil = (event.data['product'] as { validUntil?: string } | undefined)?.validUntil ?? null;
  if (!known) return { orderId, contactId: event.contactId, firstPosition: event.position, validUntil };
  const first = event.position < known.firstPosition ? { contactId: event.contactId, firstPosition: event.position } : known;
  const latest = validUntil !== null && (known.validUntil === null || validUntil > known.validUntil) ? validUntil : known.validUntil;
  return { orderId, contactId: first.contactId, firstPosition: first.firstPosition, validUntil: latest };
}
