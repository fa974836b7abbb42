import { isEventType } from '../domain/catalog.js';
import { anyConsentYes, evolveConsents, type ConsentState } from '../domain/consent.js';
import { evolveContactFlags } from '../domain/contact-flags.js';
import { contactIdOfStream } from '../domain/identifiers.js';
import { evolveRecency, recencyFacts, type RecencyInput } from '../domain/recency.js';
import type { EventFact } from '../store/event-store.js';
import { newContactRecord, type ContactRecord } from './contact-record.js';

/** One orders row: the contact of the order's earliest event, its latest end of validity. */
export interface OrderRecord {
  orderId: string;
  contactId: string;
  firstPosition: number;
  validUntil: string | null;
}

/**
 * What a batch changes in the read models; every backend writes it in one transaction. The rows
 * are the window's own, by id, not copies: a bulk window's commit would otherwise hold them twice.
 */
export interface ReadModelChanges {
  contacts: ReadonlyMap<string, ContactRecord>;
  /** Every consent state held, by contact. */
  consents: ReadonlyMap<string, ConsentState>;
  orders: ReadonlyMap<string, OrderRecord>;
  purgedOrders: ReadonlySet<string>;
  /**
   * Contacts whose indexed e-mail changed: the new blind-index hash, or null (forgotten). It may
   * still be in the making (the seals being opened on another thread) while the rest is written.
   */
  emails: Promise<ReadonlyMap<string, string | null>>;
}

/** The rows a batch folds over, loaded by the caller before folding. */
export interface LoadedRows {
  contacts: ReadonlyMap<string, ContactRecord>;
  consents: ReadonlyMap<string, ConsentState>;
}

/** The personal field the blind index hashes. */
export const EMAIL_FIELD = 'email';

/** Whether an event's sealed part holds an e-mail: it sets its contact's indexed address. */
export const sealsEmail = (event: Pick<EventFact, 'sealed'>): boolean =>
  event.sealed?.fields.includes(EMAIL_FIELD) ?? false;

/** Ids of the events that set an e-mail. */
export const emailEventIds = (events: ReadonlyArray<Pick<EventFact, 'id' | 'sealed'>>): Set<string> =>
  new Set(events.filter(sealsEmail).map((event) => event.id));

const CONSENT_TYPES = new Set(['ConsentGiven', 'ConsentWithdrawn', 'ConsentExpired']);
const ORDER_TYPES = new Set(['OptionTaken', 'OptionConfirmed', 'ReservationMade', 'TicketSold']);

/** The batch's events as the domain folds see them (ledger events of contact streams only). */
export function domainEvents(events: readonly EventFact[]): RecencyInput[] {
  const result: RecencyInput[] = [];
  for (const stored of events) {
    const contactId = contactIdOfStream(stored.stream);
    if (!contactId || !isEventType(stored.type)) continue;
    result.push({
      id: stored.id,
      type: stored.type,
      contactId,
      position: stored.position,
      occurredAt: stored.occurredAt,
      data: stored.data,
    });
  }
  return result;
}

/**
 * The read-model rows that a run of batches changes, folded in memory: contact flags and exact
 * recency, consents, orders and the e-mail index. A live batch is one window; a bulk fold puts
 * many pages into one window, so each contact's row is loaded and written once per window instead
 * of once per page. The folding is pure; loading rows and writing changes are the caller's I/O.
 */
export class ReadModelWindow {
  /** Every contact the window touched, as it stands now. */
  private readonly contacts = new Map<string, ContactRecord>();
  /** Consents of the contacts with a consent event in the window: every one held is written back. */
  private readonly consents = new Map<string, ConsentState>();
  private readonly orders = new Map<string, OrderRecord>();
  private readonly purgedOrders = new Set<string>();
  /**
   * By contact, the event whose e-mail the index holds, or null (forgotten). Its hash is looked up
   * only at `changes`: a bulk reader opens the seals on another thread while this one folds.
   */
  private readonly emailEvents = new Map<string, string | null>();
  /** Rows already asked of the storage (found or not), so that none is loaded twice. */
  private readonly asked = { contacts: new Set<string>(), consents: new Set<string>() };

  /** `storageEmpty`: nothing is stored yet (a rebuild's first window), so no row needs loading. */
  constructor(private readonly storageEmpty = false) {}

  /** Rows in memory: what bounds a window's size. */
  get rows(): number {
    return this.contacts.size + this.consents.size + this.orders.size;
  }

  /** The stored rows that `events` fold over and this window has not asked for yet. */
  missingRows(events: readonly RecencyInput[]): { contacts: string[]; consents: string[] } {
    if (this.storageEmpty) return { contacts: [], consents: [] };
    const contacts = new Set<string>();
    const consents = new Set<string>();
    const need = (asked: Set<string>, wanted: Set<string>, contactId: string) => {
      if (!asked.has(contactId)) wanted.add(contactId);
    };
    for (const event of events) {
      need(this.asked.contacts, contacts, event.contactId);
      const cultural = event.data['culturalContactId'];
      if (typeof cultural === 'string') need(this.asked.contacts, contacts, cultural);
      if (CONSENT_TYPES.has(event.type)) need(this.asked.consents, consents, event.contactId);
    }
    return { contacts: [...contacts], consents: [...consents] };
  }

  /** Takes the rows loaded for `missingRows` (those asked for and not found start empty). */
  hold(asked: { contacts: readonly string[]; consents: readonly string[] }, loaded: LoadedRows): void {
    for (const contactId of asked.contacts) {
      this.asked.contacts.add(contactId);
      const row = loaded.contacts.get(contactId);
      if (row) this.contacts.set(contactId, row);
    }
    for (const contactId of asked.consents) {
      this.asked.consents.add(contactId);
      const state = loaded.consents.get(contactId);
      if (state) this.consents.set(contactId, state);
    }
  }

  /** Folds events (in log order) over the rows held; `emailEvents`: those that set an e-mail (see emailEventIds). */
  add(events: readonly RecencyInput[], emailEvents: ReadonlySet<string>): void {
    const { contacts, consents } = this;
    // The window's rows are its own until `changes`: they are updated in place (a new version the
    // pure evolve functions return is copied into the row held), so that replaced versions die
    // young instead of piling up in the old generation (peak memory).
    const record = (contactId: string) => {
      let held = contacts.get(contactId);
      if (!held) contacts.set(contactId, (held = newContactRecord(contactId)));
      return held;
    };
    const update = <T extends object>(held: T, next: T) => {
      if (next !== held) Object.assign(held, next);
    };
    for (const event of events) {
      const { contactId } = event;
      const held = record(contactId);
      update(held, evolveContactFlags(held, event));
      let stillYes = false;
      if (CONSENT_TYPES.has(event.type)) {
        const before = consents.get(contactId);
        const after = evolveConsents(before ?? {}, event);
        if (before) update(before, after);
        else consents.set(contactId, after);
        stillYes = anyConsentYes(after);
      }
      for (const fact of recencyFacts(event, stillYes)) {
        const row = fact.contactId === contactId ? held : record(fact.contactId);
        row.recency = evolveRecency(row.recency, fact);
      }
      // The cultural contact of a sale benefited from a ticket: a customer, not a prospect.
      const cultural = event.data['culturalContactId'];
      if (event.type === 'TicketSold' && typeof cultural === 'string') record(cultural).customer = true;

      const orderId = event.data['orderId'];
      if (typeof orderId === 'string') {
        if (event.type === 'OrderDataPurged') this.purgedOrders.add(orderId);
        else if (ORDER_TYPES.has(event.type)) {
          const known = this.orders.get(orderId);
          // The contact id string of the row held, not the event's copy: one string per contact.
          if (known) mergeOrder(known, event, held.contactId);
          else
            this.orders.set(orderId, {
              orderId,
              contactId: held.contactId,
              firstPosition: event.position,
              validUntil: validUntilOf(event),
            });
        }
      }
      // One address per contact in the index: a new one replaces it; forgetting removes it.
      if (event.type === 'ContactAnonymized' || event.type === 'ContactErased') this.emailEvents.set(contactId, null);
      else if (emailEvents.has(event.id)) this.emailEvents.set(contactId, event.id);
    }
  }

  /**
   * The rows to write: every contact touched, the consents and orders changed, the e-mail index
   * (`emailHashes`: by event id, for the e-mail events folded; an e-mail whose seal can no longer
   * be opened is not indexed). A contact's purposes that its events left as they were are written
   * unchanged (idempotent).
   */
  changes(emailHashes: Promise<ReadonlyMap<string, string>>): ReadModelChanges {
    const emails = emailHashes.then((hashes) => {
      const indexed = new Map<string, string | null>();
      for (const [contactId, eventId] of this.emailEvents)
        indexed.set(contactId, eventId === null ? null : (hashes.get(eventId) ?? null));
      return indexed;
    });
    return {
      contacts: this.contacts,
      consents: this.consents,
      orders: this.orders,
      purgedOrders: this.purgedOrders,
      emails,
    };
  }
}

/** The consents rows of the consent states held, one per contact and purpose. */
export function* consentRows(
  consents: ReadModelChanges['consents'],
): Generator<{ contactId: string; purpose: string; status: string; changedAt: string }> {
  for (const [contactId, state] of consents) {
    for (const [purpose, { status, changedAt }] of Object.entries(state))
      yield { contactId, purpose, status, changedAt };
  }
}

const validUntilOf = (event: RecencyInput) =>
  (event.data['product'] as { validUntil?: string } | undefined)?.validUntil ?? null;

/** The order belongs to the contact of its first event in the log, whatever the folding order; it is valid until its latest validity. */
function mergeOrder(known: OrderRecord, event: RecencyInput, contactId: string): void {
  if (event.position < known.firstPosition) {
    known.contactId = contactId;
    known.firstPosition = event.position;
  }
  const validUntil = validUntilOf(event);
  if (validUntil !== null && (known.validUntil === null || validUntil > known.validUntil))
    known.validUntil = validUntil;
}
