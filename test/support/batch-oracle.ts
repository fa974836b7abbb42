import { expect } from 'chai';
import type { EventStore, StoredEvent } from '../../src/store/event-store.js';
import { pagesAfter } from '../../src/store/pages.js';

/** One order's purge: its buyer, the tickets purged (undefined: the order's unnamed ticket), whether none is left. */
export interface ExpectedPurge {
  orderId: string;
  buyer: string;
  tickets: Array<string | undefined>;
  ended: boolean;
}

/** What an inactive-contact run must report (see outcomesOf), and the purge of each order. */
export interface ExpectedRun {
  /** The contact ids of each outcome that has any, sorted. */
  contacts: Record<string, string[]>;
  ordersPurged: string[];
  purges: ExpectedPurge[];
}

/** Lists by name (outcomes, events, scopes), compared member by member. */
export type Lists = Record<string, readonly string[]>;

/** The members (`name id`) of `actual` that `expected` lacks, and the reverse, repeats counted. */
function unmatched(actual: Lists, expected: Lists): { unexpected: string[]; missing: string[] } {
  const left = new Map<string, number>();
  for (const [name, ids] of Object.entries(expected)) {
    for (const id of ids) left.set(`${name} ${id}`, (left.get(`${name} ${id}`) ?? 0) + 1);
  }
  const unexpected: string[] = [];
  for (const [name, ids] of Object.entries(actual)) {
    for (const id of ids) {
      const count = left.get(`${name} ${id}`) ?? 0;
      if (count === 0) unexpected.push(`${name} ${id}`);
      else left.set(`${name} ${id}`, count - 1);
    }
  }
  return { unexpected, missing: [...left].flatMap(([member, count]) => Array<string>(count).fill(member)) };
}

/** Fails naming every member that differs (chai elides long lists; fast-check shows only the message). */
export function expectSameMembers(actual: Lists, expected: Lists, what: string) {
  const { unexpected, missing } = unmatched(actual, expected);
  if (unexpected.length + missing.length > 0) {
    expect.fail(`${what}: unexpected [${unexpected.join(', ')}], missing [${missing.join(', ')}]`);
  }
}

/** Fails naming every member of `actual` that `allowed` lacks. */
export function expectWithin(actual: Lists, allowed: Lists, what: string) {
  const { unexpected } = unmatched(actual, allowed);
  if (unexpected.length > 0) expect.fail(`${what}: not allowed [${unexpected.join(', ')}]`);
}

/** A run's outcomes, a report's or the oracle's: the contacts of each outcome, and the orders purged. */
export const outcomesOf = (run: { contacts: Lists; ordersPurged: readonly string[] }): Lists => ({
  ...run.contacts,
  ordersPurged: run.ordersPurged,
});

/** The whole log after a position, in order. */
export async function readLog(store: EventStore, after = 0): Promise<StoredEvent[]> {
  const log: StoredEvent[] = [];
  for await (const page of pagesAfter((from, limit) => store.readAll({ after: from, limit }), after, 5000)) {
    log.push(...page);
  }
  return log;
}

interface Person {
  role: string | null;
  registeredAt: string | null;
  balance: number;
  hold: boolean;
  bought: boolean;
  latest: string | null;
  /** The latest end of validity of its confirmed options, reservations and sales. */
  validUntil: string | null;
  consents: Map<string, boolean>;
}

interface Order {
  buyer: string;
  /** Each ticket's end of validity, by ticket id ('' for the order's one unnamed ticket). */
  ends: Map<string, { ticketId: string | undefined; end: string }>;
}

const later = (a: string | null, b: string) => (a === null || b > a ? b : a);

/**
 * What the inactive-contact batch must do with a log where nothing is forgotten yet, written from
 * the reference pages without the ledger's rules (no recency, flag, purge or forgetting module).
 * Recency is the latest of option, confirmation, reservation and sale (end of validity of a dated
 * product, else the order date; for the buyer and the cultural contact), waiting list, click,
 * criterion change and consent change leaving a "yes"; else the registration. Individuals and
 * relays older than the cutoff are candidates: holds, then balances, then a ticket still valid
 * `now` are skipped; a buyer or beneficiary is anonymized, a prospect erased. Independently, every
 * ticket whose end of validity (its product's, an undated one without it ending on its sale date)
 * is before the cutoff is purged, unless its buyer is under legal hold: a held contact that is no
 * candidate is reported for it. The order's own data goes with its last ticket.
 */
export function expectedRun(log: readonly StoredEvent[], { cutoff, now }: { cutoff: string; now: Date }): ExpectedRun {
  const people = new Map<string, Person>();
  const of = (id: string) => {
    let one = people.get(id);
    if (!one) {
      one = {
        role: null,
        registeredAt: null,
        balance: 0,
        hold: false,
        bought: false,
        latest: null,
        validUntil: null,
        consents: new Map(),
      };
      people.set(id, one);
    }
    return one;
  };
  const orders = new Map<string, Order>();
  for (const event of log) {
    if (!event.stream.startsWith('contact-')) continue;
    const contactId = event.stream.slice('contact-'.length);
    const one = of(contactId);
    const data = event.data as Record<string, any>;
    switch (event.type) {
      case 'ContactRegistered':
        one.registeredAt ??= event.occurredAt;
        one.role = data.role ?? one.role;
        break;
      case 'ContactDetailsChanged':
        one.role = data.role ?? one.role;
        break;
      case 'BalanceChanged':
        one.balance = data.balance;
        break;
      case 'LegalHoldPlaced':
        one.hold = true;
        break;
      case 'LegalHoldReleased':
        one.hold = false;
        break;
      case 'OptionTaken':
      case 'OptionConfirmed':
      case 'ReservationMade':
      case 'TicketSold': {
        const dated = data.product?.kind === 'dated' && data.product.validUntil;
        const date = dated ? data.product.validUntil : event.occurredAt;
        const beneficiaries = [one, ...(data.culturalContactId ? [of(data.culturalContactId)] : [])];
        for (const who of beneficiaries) {
          who.latest = later(who.latest, date);
          if (event.type === 'TicketSold') who.bought = true;
        }
        // An option not confirmed holds no place: it never keeps its buyer from being forgotten.
        if (event.type !== 'OptionTaken' && data.product?.validUntil) {
          one.validUntil = later(one.validUntil, data.product.validUntil);
        }
        const order = orders.get(data.orderId) ?? { buyer: contactId, ends: new Map() };
        orders.set(data.orderId, order);
        const ticket = order.ends.get(data.ticketId ?? '');
        const end: string = data.product?.validUntil ?? event.occurredAt;
        order.ends.set(data.ticketId ?? '', { ticketId: data.ticketId, end: later(ticket?.end ?? null, end) });
        break;
      }
      case 'WaitingListJoined':
      case 'MarketingLinkClicked':
      case 'CriterionChanged':
        one.latest = later(one.latest, event.occurredAt);
        break;
      case 'ConsentGiven':
      case 'ConsentWithdrawn': {
        // A change only (the purposes given here are authorizations, none a legal basis).
        const changed = one.consents.get(data.purpose) !== (event.type === 'ConsentGiven');
        one.consents.set(data.purpose, event.type === 'ConsentGiven');
        if (changed && [...one.consents.values()].some(Boolean)) one.latest = later(one.latest, event.occurredAt);
        break;
      }
    }
  }
  const contacts: Record<string, string[]> = {};
  const add = (outcome: string, id: string) => (contacts[outcome] ??= []).push(id);
  const candidates = new Set<string>();
  for (const [id, one] of people) {
    if (one.registeredAt === null || !['individual', 'relay'].includes(one.role ?? '')) continue;
    if ((one.latest ?? one.registeredAt) >= cutoff) continue;
    candidates.add(id);
    if (one.hold) add('skippedLegalHold', id);
    else if (one.balance !== 0) add('skippedDebtorOrCreditor', id);
    else if (one.validUntil !== null && one.validUntil > now.toISOString()) add('skippedValidTicket', id);
    else add(one.bought ? 'anonymized' : 'erased', id);
  }
  const purges: ExpectedPurge[] = [];
  const heldBack = new Set<string>();
  for (const [orderId, { buyer, ends }] of orders) {
    const ended = [...ends.values()].filter(({ end }) => end < cutoff);
    if (ended.length === 0) continue;
    if (people.get(buyer)!.hold) heldBack.add(buyer);
    else
      purges.push({
        orderId,
        buyer,
        tickets: ended.map(({ ticketId }) => ticketId),
        ended: ended.length === ends.size,
      });
  }
  for (const id of heldBack) if (!candidates.has(id)) add('purgeSkippedLegalHold', id);
  for (const ids of Object.values(contacts)) ids.sort();
  return { contacts, ordersPurged: purges.map(({ orderId }) => orderId).sort(), purges };
}
