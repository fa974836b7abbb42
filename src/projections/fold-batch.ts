import { CULTURAL_CONTACT_TYPES, isEventType } from '../domain/catalog.js';
import { ticketEnd } from '../domain/order-purge.js';
import { consentAnswers, evolveConsents, type ConsentState } from '../domain/consent.js';
import { evolveContactFlags } from '../domain/contact-flags.js';
import { ticketValidUntil } from '../domain/contact-view.js';
import { contactIdOfStream } from '../domain/identifiers.js';
import {
  evolvePurposes,
  isPurposeEvent,
  NEW_ORDER_TYPES,
  ORDER_LEGAL_BASIS,
  PURPOSE_CONFIGURED,
  PURPOSES_STREAM,
  type Purpose,
  type PurposeConfiguration,
  type PurposeEvent,
  type PurposesState,
} from '../domain/purposes.js';
import { consentCountsForRecency, evolveRecency, recencyFacts, type RecencyInput } from '../domain/recency.js';
import type { RowProofs } from '../crypto/row-proof.js';
import type { EventFact } from '../store/event-store.js';
import { contactRow, newContactRecord, type ContactRecord, type ContactRow } from './contact-record.js';
import type { CONSENTS, CONTACT_ORGANIZATIONS, EMAIL_INDEX, ORDERS, PURPOSES, Row } from './tables.js';

/** What the read models fold, in log order: contact events and the purposes' configuration. */
export type FoldEvent = RecencyInput | PurposeEvent;

/** One orders row: the contact of the order's earliest event, its earliest end of validity, whether purged. */
export interface OrderRecord {
  orderId: string;
  contactId: string;
  firstPosition: number;
  earliestEnd: string;
  /** Every ticket of it purged (the purge that says `orderEnded`, or one from before ticket purges). */
  purged: boolean;
}

/** The rows a window folds over, loaded from storage before folding. */
export interface LoadedRows {
  contacts: ReadonlyMap<string, ContactRecord>;
  consents: ReadonlyMap<string, ConsentState>;
  orders: ReadonlyMap<string, OrderRecord>;
  /** Present when asked for (`MissingRows.purposes`). */
  purposes?: PurposesState;
}

/** Ids of the stored rows a window needs: contacts, consents by contact, orders. */
export interface MissingRows {
  contacts: string[];
  consents: string[];
  orders: string[];
  /** The purposes' configuration: loaded once per window, before anything is folded. */
  purposes: boolean;
}

/** The personal field the blind index hashes. */
export const EMAIL_FIELD = 'email';

/** Whether an event's sealed part holds an e-mail: it sets its contact's indexed address. */
export const sealsEmail = (event: Pick<EventFact, 'sealed'>): boolean =>
  event.sealed?.fields.includes(EMAIL_FIELD) ?? false;

/** Ids of the events that set an e-mail. */
export const emailEventIds = (events: ReadonlyArray<Pick<EventFact, 'id' | 'sealed'>>): Set<string> =>
  new Set(events.filter(sealsEmail).map((event) => event.id));

/** Events that change consents whatever the configuration: consent events, and forgetting, which withdraws them all. */
const CONSENT_TYPES = ['ConsentGiven', 'ConsentWithdrawn', 'ConsentExpired', 'ContactAnonymized', 'ContactErased'];

/**
 * The event types that may change a contact's consents under a configuration: the consent types,
 * the prolonging activities configured, and new orders once the "order" legal basis exists.
 */
function consentTypesUnder(purposes: Iterable<Purpose>): Set<string> {
  const types = new Set<string>(CONSENT_TYPES);
  for (const purpose of purposes) {
    for (const type of purpose.prolongedBy) types.add(type);
    if (purpose.code === ORDER_LEGAL_BASIS && purpose.kind === 'legalBasis')
      NEW_ORDER_TYPES.forEach((t) => types.add(t));
  }
  return types;
}
const ORDER_TYPES = new Set(['OptionTaken', 'OptionConfirmed', 'ReservationMade', 'TicketSold']);

/** The batch's events as the domain folds see them: ledger events of contact streams, and purpose configurations. */
export function domainEvents(events: readonly EventFact[]): FoldEvent[] {
  const result: FoldEvent[] = [];
  for (const stored of events) {
    if (stored.stream === PURPOSES_STREAM && stored.type === PURPOSE_CONFIGURED) {
      const { position, occurredAt } = stored;
      result.push({ type: PURPOSE_CONFIGURED, position, occurredAt, data: stored.data as PurposeConfiguration });
      continue;
    }
    const contactId = contactIdOfStream(stored.stream);
    if (!contactId || !isEventType(stored.type)) continue;
    result.push({
      id: stored.id,
      type: stored.type,
      contactId,
      position: stored.position,
      occurredAt: stored.occurredAt,
      data: stored.data,
      organizationId: stored.organizationId,
    });
  }
  return result;
}

/**
 * The read-model rows that a run of batches changes, folded in memory: contact flags and exact
 * recency, consents, orders and the e-mail index. A live batch is one window; a bulk fold puts
 * many pages into one window, so each row is loaded and written once per window instead of once
 * per page. The folding is pure; loading rows and writing them are the caller's I/O.
 */
export class ReadModelWindow {
  /** Every contact the window touched, as it stands now. */
  private readonly contacts = new Map<string, ContactRecord>();
  /** Consents of the contacts with a consent event in the window: every one held is written back. */
  private readonly consents = new Map<string, ConsentState>();
  private readonly orders = new Map<string, OrderRecord>();
  /**
   * By contact, the event whose e-mail the index holds, or null (forgotten). Its hash is looked up
   * only when the rows are written: a bulk reader opens the seals on another thread meanwhile.
   */
  private readonly emailEvents = new Map<string, string | null>();
  /** Rows already asked of the storage (found or not), so that none is loaded twice. */
  private readonly asked = { contacts: new Set<string>(), consents: new Set<string>(), orders: new Set<string>() };
  /** The configuration in force at the event being folded; null until loaded. */
  private purposes: PurposesState | null = null;
  /** The types that may change consents under any configuration the window has seen. */
  private consentTypes = new Set(CONSENT_TYPES);
  private readonly purposesConfigured = new Set<string>();
  /**
   * The contacts each organisation met, by organisation: rows inserted once, never loaded. An
   * institution has a few organisations and many contacts: a few large sets, not one per contact
   * (a set per contact cost ≈ 3 µs an event in a rebuild).
   */
  private readonly memberships = new Map<string, Set<string>>();

  /** `storageEmpty`: nothing is stored yet (a rebuild's first window), so no row needs loading. */
  constructor(private readonly storageEmpty = false) {
    if (storageEmpty) this.purposes = new Map();
  }

  /** The rows held, as they stand now: once committed, what storage holds. */
  get held(): LoadedRows {
    return { contacts: this.contacts, consents: this.consents, orders: this.orders };
  }

  /** Rows in memory: what bounds a window's size. */
  get rows(): number {
    return this.contacts.size + this.consents.size + this.orders.size;
  }

  /** The stored rows that `events` fold over and this window has not asked for yet. */
  missingRows(events: readonly FoldEvent[]): MissingRows {
    if (this.storageEmpty) return { contacts: [], consents: [], orders: [], purposes: false };
    const wanted = { contacts: new Set<string>(), consents: new Set<string>(), orders: new Set<string>() };
    const need = (kind: keyof typeof wanted, id: string) => {
      if (!this.asked[kind].has(id)) wanted[kind].add(id);
    };
    // Loading a contact's consents for an event that turns out not to touch them costs a read, not a result.
    const consentTypes = new Set(this.consentTypes);
    for (const event of events) {
      if (isPurposeEvent(event)) {
        for (const type of consentTypesUnder(evolvePurposes(new Map(), event).values())) consentTypes.add(type);
      }
    }
    for (const event of events) {
      if (isPurposeEvent(event)) continue;
      need('contacts', event.contactId);
      const cultural = event.data['culturalContactId'];
      if (typeof cultural === 'string') need('contacts', cultural);
      if (this.purposes === null || consentTypes.has(event.type)) need('consents', event.contactId);
      const orderId = orderIdOf(event);
      if (orderId !== null) need('orders', orderId);
    }
    return {
      contacts: [...wanted.contacts],
      consents: [...wanted.consents],
      orders: [...wanted.orders],
      purposes: this.purposes === null,
    };
  }

  /** Takes the rows loaded for `missingRows` (those asked for and not found start empty). */
  hold(asked: MissingRows, loaded: LoadedRows): void {
    const take = <T>(kind: keyof typeof this.asked, from: ReadonlyMap<string, T>, into: Map<string, T>) => {
      for (const id of asked[kind]) {
        this.asked[kind].add(id);
        const row = from.get(id);
        if (row) into.set(id, row);
      }
    };
    take('contacts', loaded.contacts, this.contacts);
    take('consents', loaded.consents, this.consents);
    take('orders', loaded.orders, this.orders);
    if (loaded.purposes) this.usePurposes(loaded.purposes);
  }

  private usePurposes(purposes: PurposesState): void {
    this.purposes = purposes;
    for (const type of consentTypesUnder(purposes.values())) this.consentTypes.add(type);
  }

  /** Folds events (in log order) over the rows held; `emailEvents`: those that set an e-mail (see emailEventIds). */
  add(events: readonly FoldEvent[], emailEvents: ReadonlySet<string>): void {
    const { contacts, consents } = this;
    if (this.purposes === null) throw new Error('the purposes must be loaded before folding (missingRows)');
    // The window's rows are its own until written: they are updated in place (a new version the
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
      if (isPurposeEvent(event)) {
        this.usePurposes(evolvePurposes(this.purposes!, event));
        this.purposesConfigured.add(event.data.code);
        continue;
      }
      const { contactId } = event;
      if (event.organizationId) this.meet(contactId, event.organizationId);
      const held = record(contactId);
      update(held, evolveContactFlags(held, event));
      let consentCounts = false;
      if (this.consentTypes.has(event.type)) {
        const before = consents.get(contactId) ?? {};
        const after = evolveConsents(before, event, this.purposes!);
        if (after !== before) {
          consentCounts = consentCountsForRecency(before, after, event, this.purposes!);
          if (consents.has(contactId)) update(before, after);
          else consents.set(contactId, after);
        }
      }
      for (const fact of recencyFacts(event, consentCounts)) {
        const row = fact.contactId === contactId ? held : record(fact.contactId);
        row.recency = evolveRecency(row.recency, fact);
      }
      // The cultural contact of a sale benefited from a ticket: a customer, not a prospect.
      const cultural = event.data['culturalContactId'];
      if (event.type === 'TicketSold' && typeof cultural === 'string') record(cultural).customer = true;
      // The position each touched row is folded up to: what its proof is checked against (the log's
      // head of the contact's stream, and of the sales naming it, the batch's mention index).
      foldedUpTo(held, event.position);
      if (typeof cultural === 'string' && (CULTURAL_CONTACT_TYPES as readonly string[]).includes(event.type)) {
        foldedUpTo(record(cultural), event.position);
      }
      const validUntil = ticketValidUntil(event.type, event.data['product']);
      if (validUntil !== null && (held.validUntil === null || validUntil > held.validUntil))
        held.validUntil = validUntil;

      const orderId = orderIdOf(event);
      if (orderId !== null) {
        const known = this.orders.get(orderId);
        if (event.type === 'OrderDataPurged') {
          if (known && event.data['orderEnded'] !== false) known.purged = true;
        } else if (known) mergeOrder(known, event, held.contactId);
        else this.orders.set(orderId, newOrder(orderId, event, held.contactId));
      }
      // One address per contact in the index: a new one replaces it; forgetting removes it.
      if (event.type === 'ContactAnonymized' || event.type === 'ContactErased') this.emailEvents.set(contactId, null);
      else if (emailEvents.has(event.id)) this.emailEvents.set(contactId, event.id);
    }
  }

  private meet(contactId: string, organizationId: string): void {
    let met = this.memberships.get(organizationId);
    if (!met) this.memberships.set(organizationId, (met = new Set()));
    met.add(contactId);
  }

  /** The contacts rows to write: every contact touched, with its answers if its consents were folded. */
  *contactRows(proofs: RowProofs): Generator<ContactRow> {
    for (const record of this.contacts.values()) {
      const consents = this.consents.get(record.contactId);
      if (consents) record.consentAnswers = consentAnswers(consents);
      yield contactRow(record, proofs);
    }
  }

  /**
   * The consents rows of the consent states held, one per contact and purpose. A contact's
   * purposes that its events left as they were are written unchanged (idempotent).
   */
  *consentRows(): Generator<Row<typeof CONSENTS>> {
    for (const [contact_id, state] of this.consents) {
      for (const [purpose, { status, changedAt, lastActivityAt }] of Object.entries(state)) {
        yield { contact_id, purpose, status, changed_at: changedAt, last_activity_at: lastActivityAt };
      }
    }
  }

  *membershipRows(): Generator<Row<typeof CONTACT_ORGANIZATIONS>> {
    for (const [organization_id, met] of this.memberships) {
      for (const contact_id of met) yield { contact_id, organization_id };
    }
  }

  /** The purposes configured by the window's events. */
  *purposeRows(): Generator<Row<typeof PURPOSES>> {
    for (const code of this.purposesConfigured) yield purposeRow(this.purposes!.get(code)!);
  }

  *orderRows(): Generator<Row<typeof ORDERS>> {
    for (const order of this.orders.values()) yield orderRow(order);
  }

  /**
   * The e-mail index's changes, from the hashes of the e-mail events folded (by event id): an
   * e-mail whose seal can no longer be opened is not indexed; a forgotten contact's entry goes.
   */
  emailRows(hashes: ReadonlyMap<string, string>): { indexed: Array<Row<typeof EMAIL_INDEX>>; removed: string[] } {
    const indexed: Array<Row<typeof EMAIL_INDEX>> = [];
    const removed: string[] = [];
    for (const [contact_id, eventId] of this.emailEvents) {
      const email_hash = eventId === null ? undefined : hashes.get(eventId);
      if (email_hash === undefined) removed.push(contact_id);
      else indexed.push({ contact_id, email_hash });
    }
    return { indexed, removed };
  }
}

const foldedUpTo = (record: ContactRecord, position: number) => {
  if (position > record.headPosition) record.headPosition = position;
};

const orderIdOf = (event: RecencyInput): string | null => {
  const orderId = event.data['orderId'];
  return typeof orderId === 'string' && (ORDER_TYPES.has(event.type) || event.type === 'OrderDataPurged')
    ? orderId
    : null;
};

/** An activity's end (order-purge.ts ticketEnd): its product's end of validity, else its date. */
const endOf = (event: RecencyInput) => ticketEnd([event]);

// The contact id string of the row held, not the event's copy: one string per contact.
const newOrder = (orderId: string, event: RecencyInput, contactId: string): OrderRecord => ({
  orderId,
  contactId,
  firstPosition: event.position,
  earliestEnd: endOf(event),
  purged: false,
});

/**
 * The one rule of an order's row: it belongs to the contact of its first event in the log,
 * whatever the folding order, and its earliest end is the earliest of its activities' (the
 * minimum, whatever the folding order too; a ticket ends no earlier than any of its events).
 */
function mergeOrder(known: OrderRecord, event: RecencyInput, contactId: string): void {
  if (event.position < known.firstPosition) {
    known.contactId = contactId;
    known.firstPosition = event.position;
  }
  const end = endOf(event);
  if (end < known.earliestEnd) known.earliestEnd = end;
}

export const orderRow = (order: OrderRecord): Row<typeof ORDERS> => ({
  order_id: order.orderId,
  contact_id: order.contactId,
  first_position: order.firstPosition,
  earliest_end: order.earliestEnd,
  purged: order.purged ? 1 : 0,
});

export const orderFromRow = (row: Row<typeof ORDERS>): OrderRecord => ({
  orderId: row.order_id,
  contactId: row.contact_id,
  firstPosition: row.first_position,
  earliestEnd: row.earliest_end,
  purged: row.purged === 1,
});

const purposeRow = (purpose: Purpose): Row<typeof PURPOSES> => ({
  code: purpose.code,
  kind: purpose.kind,
  channel: purpose.channel,
  expiry_days: purpose.expiryDays,
  prolonged_by: JSON.stringify(purpose.prolongedBy),
  expiry_since: purpose.expirySince,
  configured_at: purpose.configuredAt,
});

export const purposeFromRow = (row: Row<typeof PURPOSES>): Purpose => ({
  code: row.code,
  kind: row.kind as Purpose['kind'],
  channel: row.channel as Purpose['channel'],
  expiryDays: row.expiry_days,
  prolongedBy: JSON.parse(row.prolonged_by) as Purpose['prolongedBy'],
  // The read models keep what the rules read; the wording, for the person's page only, is read
  // from the purposes stream (app/purposes.ts).
  labels: null,
  expirySince: row.expiry_since,
  configuredAt: row.configured_at,
});
