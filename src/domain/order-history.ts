/** What became of a ticket, by the latest order activity that named it. */
export type TicketState = 'option' | 'confirmed' | 'reserved' | 'sold';

const TICKET_STATES: Readonly<Record<string, TicketState>> = {
  OptionTaken: 'option',
  OptionConfirmed: 'confirmed',
  ReservationMade: 'reserved',
  TicketSold: 'sold',
};

/** The order events (an order remark names an order too, but is the operator's, not the order's). */
const ORDER_TYPES: ReadonlySet<string> = new Set([...Object.keys(TICKET_STATES), 'PaymentReceived', 'OrderDataPurged']);

export interface TicketLine {
  ticketId: string | null;
  productId: string | null;
  kind: 'dated' | 'undated';
  validFrom: string | null;
  validUntil: string | null;
  state: TicketState;
}

export interface OrderLine {
  orderId: string;
  placedAt: string;
  lastActivityAt: string;
  tickets: TicketLine[];
  /** The beneficiaries' details of its ended tickets were purged (OrderDataPurged). */
  purged: boolean;
}

/** An event as the history reads it: clear fields only (ids, products, dates), nothing sealed. */
export interface OrderFact {
  type: string;
  occurredAt: string;
  data: Record<string, unknown>;
}

interface Product {
  kind: 'dated' | 'undated';
  productId?: string;
  validFrom?: string;
  validUntil?: string;
}

/**
 * A contact's orders as the person sees them on their page: when each was placed, its tickets
 * (product, validity, what became of it), newest first. Built from the clear part of the buyer's
 * own stream only, so no other person's details (a beneficiary, a cultural contact) can appear.
 */
export function orderHistory(events: Iterable<OrderFact>): OrderLine[] {
  const orders = new Map<string, OrderLine & { byTicket: Map<string, TicketLine> }>();
  for (const { type, occurredAt, data } of events) {
    const orderId = data['orderId'];
    if (!ORDER_TYPES.has(type) || typeof orderId !== 'string') continue;
    const order = orders.get(orderId) ?? {
      orderId,
      placedAt: occurredAt,
      lastActivityAt: occurredAt,
      tickets: [],
      purged: false,
      byTicket: new Map<string, TicketLine>(),
    };
    orders.set(orderId, order);
    order.lastActivityAt = occurredAt;
    if (type === 'OrderDataPurged') order.purged = true;
    const state = TICKET_STATES[type];
    if (!state) continue;
    const ticketId = typeof data['ticketId'] === 'string' ? data['ticketId'] : null;
    const product = data['product'] as Product;
    order.byTicket.set(ticketId ?? '', {
      ticketId,
      productId: product.productId ?? null,
      kind: product.kind,
      validFrom: product.validFrom ?? null,
      validUntil: product.validUntil ?? null,
      state,
    });
  }
  return [...orders.values()]
    .map(({ byTicket, ...order }) => ({ ...order, tickets: [...byTicket.values()] }))
    .sort((a, b) => (a.placedAt < b.placedAt ? 1 : a.placedAt > b.placedAt ? -1 : 0));
}
