import { CONTACT_FORGETTING_TYPES, CULTURAL_CONTACT_TYPES, type EventData } from './catalog.js';
import { retainedPlace } from './places.js';

/**
 * The order-data purge, per ticket (DESIGN.md "Forgetting"; reference:
 * ticketing-gdpr-features-v2.en.txt, "Removing a prospect / anonymizing a contact"): "All
 * beneficiary information (except the country) and all answers to questions of type Address or
 * Email linked to tickets which end validity is older than the duration ... are removed", and "The
 * IP address of all orders containing only tickets which end validity is older than [it] is
 * removed". Each ticket's personal part is sealed under its own key (identifiers.ts ticketScope):
 * its purge destroys that key, keeps the beneficiary's country in clear and carries the ticket's
 * text answers, which the page keeps, over to the buyer's key. The buyer IP each sale of the order
 * holds stays readable in the sales of tickets still valid, and goes with the last of them.
 */
const ORDER_ACTIVITY: ReadonlySet<string> = new Set(CULTURAL_CONTACT_TYPES);
const FORGOTTEN: ReadonlySet<string> = new Set(CONTACT_FORGETTING_TYPES);

/** An event of the buyer's stream, its seal opened when it could be (beneficiary data, answers). */
export interface OrderFact {
  type: string;
  occurredAt: string;
  data: Record<string, unknown>;
}

export type OrderDataPurge = { type: 'OrderDataPurged'; data: EventData<'OrderDataPurged'> };

type Answers = NonNullable<EventData<'OrderDataPurged'>['answers']>;

/** One ticket of an order: its events, in stream order. A sale naming no ticket is the order's one ticket. */
interface Ticket {
  ticketId: string | undefined;
  events: OrderFact[];
}

/**
 * A ticket's end of validity: its product's `validUntil`, or, for an undated product without one,
 * the sale date (the page purges every ticket; an undated one is over once sold). The latest of its
 * events' (an option, then its sale).
 */
export function ticketEnd(events: readonly OrderFact[]): string {
  let end = '';
  for (const event of events) {
    const date = (event.data['product'] as { validUntil?: string } | undefined)?.validUntil ?? event.occurredAt;
    if (date > end) end = date;
  }
  return end;
}

function ticketsOf(stream: readonly OrderFact[], orderId: string): Map<string, Ticket> {
  const tickets = new Map<string, Ticket>();
  for (const event of stream) {
    if (!ORDER_ACTIVITY.has(event.type) || event.data['orderId'] !== orderId) continue;
    const ticketId = event.data['ticketId'] as string | undefined;
    const key = ticketId ?? '';
    const known = tickets.get(key);
    if (known) known.events.push(event);
    else tickets.set(key, { ticketId, events: [event] });
  }
  return tickets;
}

/** The tickets of `orderId` purged already (by key, '' for the order's own); null: the whole order was. */
function purgedTickets(stream: readonly OrderFact[], orderId: string): Set<string> | null {
  const purged = new Set<string>();
  for (const event of stream) {
    if (event.type !== 'OrderDataPurged' || event.data['orderId'] !== orderId) continue;
    // A purge written before tickets were purged one by one closed the whole order.
    if (event.data['orderEnded'] === undefined) return null;
    purged.add((event.data['ticketId'] as string | undefined) ?? '');
  }
  return purged;
}

/** The latest value of a field among a ticket's events (a sale restates its option's). */
function latest<T>(events: readonly OrderFact[], pick: (data: Record<string, unknown>) => T | undefined) {
  let found: T | undefined;
  for (const event of events) found = pick(event.data) ?? found;
  return found;
}

/**
 * The purges of `orderId`'s tickets decided on its buyer's stream: one OrderDataPurged per ticket
 * not purged yet whose end of validity is before the cutoff, the last flagged `orderEnded` when no
 * ticket of the order is left. A forgotten buyer's old tickets are purged all the same (their keys
 * were kept for the security retention only), carrying nothing: the buyer's key is gone. Under a
 * legal hold nothing is purged ("held": there was something to purge), as no forgetting is.
 */
export function decideOrderPurge(
  stream: readonly OrderFact[],
  orderId: string,
  { cutoff, runId, legalHold }: { cutoff: string; runId: string; legalHold: boolean },
): { events: OrderDataPurge[]; held: boolean } {
  const purged = purgedTickets(stream, orderId);
  if (purged === null) return { events: [], held: false };
  const open = [...ticketsOf(stream, orderId)].filter(([key]) => !purged.has(key));
  const ended = open.filter(([, ticket]) => ticketEnd(ticket.events) < cutoff);
  if (ended.length === 0) return { events: [], held: false };
  if (legalHold) return { events: [], held: true };
  const buyerForgotten = stream.some((event) => FORGOTTEN.has(event.type));
  const events = ended.map(([, { ticketId, events: ticketEvents }], index): OrderDataPurge => {
    // Checked again before the copy (places.ts): a country stored before the rule that fails it is dropped.
    const beneficiaryCountry = latest(
      ticketEvents,
      (data) =>
        retainedPlace((data['beneficiary'] as { address?: Record<string, unknown> } | undefined)?.address, ['country'])
          .country,
    );
    const answers = latest(ticketEvents, (data) => data['answers'] as Answers | undefined) ?? [];
    const kept = buyerForgotten ? [] : answers.filter((answer) => answer.questionType === 'text');
    return {
      type: 'OrderDataPurged',
      data: {
        orderId,
        ...(ticketId !== undefined ? { ticketId } : {}),
        runId,
        retained: beneficiaryCountry !== undefined ? { beneficiaryCountry } : {},
        orderEnded: open.length === ended.length && index === ended.length - 1,
        ...(kept.length > 0 ? { answers: kept } : {}),
      },
    };
  });
  return { events, held: false };
}
