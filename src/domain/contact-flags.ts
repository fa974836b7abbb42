import { CULTURAL_CONTACT_TYPES, RESTRICTION_TYPES, type EventType } from './catalog.js';

/**
 * What a contact is, as flags: the part of a contact that both the personal view and the
 * contacts read model hold, folded by this one function. No personal data.
 */
export interface ContactFlags {
  role: string | null;
  status: 'active' | 'anonymized' | 'erased';
  /** Bought a ticket (in its own stream; the read model adds tickets it benefited from). */
  customer: boolean;
  /** Non-zero: the contact is a debtor or a creditor. */
  balance: { amount: number; currency: string } | null;
  restricted: boolean;
  legalHold: boolean;
}

export const initialContactFlags = (): ContactFlags => ({
  role: null,
  status: 'active',
  customer: false,
  balance: null,
  restricted: false,
  legalHold: false,
});

export function evolveContactFlags<F extends ContactFlags>(
  flags: F,
  event: { type: EventType; data: Record<string, unknown> },
): F {
  const { data } = event;
  switch (event.type) {
    case 'ContactRegistered':
    case 'ContactDetailsChanged':
      return typeof data['role'] === 'string' ? { ...flags, role: data['role'] } : flags;
    case 'TicketSold':
      return flags.customer ? flags : { ...flags, customer: true };
    case 'BalanceChanged':
      return { ...flags, balance: { amount: Number(data['balance']), currency: String(data['currency']) } };
    case 'ProcessingRestricted':
      return { ...flags, restricted: true };
    case 'RestrictionLifted':
      return { ...flags, restricted: false };
    case 'LegalHoldPlaced':
      return { ...flags, legalHold: true };
    case 'LegalHoldReleased':
      return { ...flags, legalHold: false };
    case 'ContactAnonymized':
      return { ...flags, status: 'anonymized' };
    case 'ContactErased':
      return { ...flags, status: 'erased' };
    case 'PhotoRecorded':
    case 'NoteAdded':
    case 'RemarkSet':
    case 'OrderRemarkSet':
    case 'PolicyAccepted':
    case 'CriterionChanged':
    case 'PaymentAliasSaved':
    case 'OptionTaken':
    case 'OptionConfirmed':
    case 'ReservationMade':
    case 'PaymentReceived':
    case 'WaitingListJoined':
    case 'MarketingLinkClicked':
    case 'MarketingOperationJoined':
    case 'StatusPageVisited':
    case 'AccountUpdated':
    case 'ConsentGiven':
    case 'ConsentWithdrawn':
    case 'ConsentExpired':
    case 'ErasureRequested':
    case 'ErasureRefused':
    case 'ErasureConfirmed':
    case 'OrderDataPurged':
      return flags;
    default: {
      const unhandled: never = event.type;
      throw new Error(`no contact rule for ${String(unhandled)}`);
    }
  }
}

type FlagEvent = Parameters<typeof evolveContactFlags>[1];

/** Whether a contact's processing is restricted after an event, given whether it was before. */
export const restrictedAfter = (restricted: boolean, event: FlagEvent): boolean =>
  evolveContactFlags({ ...initialContactFlags(), restricted }, event).restricted;

const ORDER_ACTIVITIES: ReadonlySet<string> = new Set(CULTURAL_CONTACT_TYPES);
const RESTRICTIONS: ReadonlySet<string> = new Set(RESTRICTION_TYPES);

/**
 * The indexes of the order activities (options, reservations, sales) of a batch whose contact's
 * processing is restricted when they come (GDPR art. 18). They are recorded all the same: the log
 * keeps what happened, and a sale the box office made is a fact; but the publisher is told, since
 * a restricted person's data may only be stored. `restricted` holds the contacts restricted as the
 * log stood before the batch; the batch's own restrictions and lifts count in order.
 */
export function ordersUnderRestriction(
  restricted: ReadonlySet<string>,
  events: ReadonlyArray<FlagEvent & { contactId: string }>,
): number[] {
  const now = new Map<string, boolean>();
  const found: number[] = [];
  events.forEach((event, index) => {
    const before = now.get(event.contactId) ?? restricted.has(event.contactId);
    if (before && ORDER_ACTIVITIES.has(event.type)) found.push(index);
    if (RESTRICTIONS.has(event.type)) now.set(event.contactId, restrictedAfter(before, event));
  });
  return found;
}
