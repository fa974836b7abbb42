import type { EventType } from './catalog.js';
import { anyConsentYes, consentChanged, evolveConsents, type ConsentState } from './consent.js';
import { evolvePurposes, isPurposeEvent, type PurposeEvent, type PurposesState } from './purposes.js';

/**
 * GDPR recency (DESIGN.md "GDPR recency"; reference: ticketing-gdpr-features-v2.en.txt, "Contact
 * inactivity period calculation"). Exact and incremental: every event is folded as it arrives,
 * instead of the reference product's lazy recomputation, which it admits can be stale.
 */

/** What one event says about one contact's recency. */
export interface RecencyFact {
  contactId: string;
  /** `activity`: a qualifying event; `registration`: the fallback when there is none. */
  basis: 'activity' | 'registration';
  date: string;
  eventId: string;
  /** Global position of the event: breaks ties between equal dates, whatever the order of folding. */
  position: number;
}

/** An event as the rule needs it (clear fields only: recency never needs personal data). */
export interface RecencyInput {
  id: string;
  type: EventType;
  contactId: string;
  position: number;
  occurredAt: string;
  data: Record<string, unknown>;
  /** The organisation the event happened in (recency is institution-wide: only targeting reads it). */
  organizationId?: string;
}

/**
 * The recency facts of an event, for its contact and, for sales, options and reservations, for
 * the cultural contact too (institution-wide: the organisation does not matter).
 * `consentCounts`: this consent event changed its purpose's status (an import re-sending the same
 * answer is no contact action) and, after it, at least one authorization of the contact is "yes"
 * (reference: "modification of contact authorizations, if at least one authorization is still yes").
 */
export function recencyFacts(event: RecencyInput, consentCounts = false): RecencyFact[] {
  const fact = (contactId: string, date: string, basis: RecencyFact['basis'] = 'activity'): RecencyFact => ({
    contactId,
    basis,
    date,
    eventId: event.id,
    position: event.position,
  });
  switch (event.type) {
    case 'ContactRegistered':
      return [fact(event.contactId, event.occurredAt, 'registration')];
    case 'OptionTaken':
    case 'OptionConfirmed':
    case 'ReservationMade':
    case 'TicketSold': {
      const date = orderActivityDate(event);
      const cultural = event.data['culturalContactId'];
      return typeof cultural === 'string' && cultural !== event.contactId
        ? [fact(event.contactId, date), fact(cultural, date)]
        : [fact(event.contactId, date)];
    }
    case 'WaitingListJoined':
    case 'MarketingLinkClicked':
    case 'CriterionChanged':
      return [fact(event.contactId, event.occurredAt)];
    case 'ConsentGiven':
    case 'ConsentWithdrawn':
      return consentCounts ? [fact(event.contactId, event.occurredAt)] : [];
    // Not qualifying: paying completes a sale without being a new contact action (reference:
    // "Completing payment does not modify the contact recency"); an expiry is the ledger's own
    // housekeeping, and counting it would let the ledger extend its own retention.
    case 'PaymentReceived':
    case 'ConsentExpired':
    case 'ContactDetailsChanged':
    case 'PhotoRecorded':
    case 'NoteAdded':
    case 'RemarkSet':
    case 'OrderRemarkSet':
    case 'PolicyAccepted':
    case 'BalanceChanged':
    case 'PaymentAliasSaved':
    case 'ProcessingRestricted':
    case 'RestrictionLifted':
    case 'LegalHoldPlaced':
    case 'LegalHoldReleased':
    case 'MarketingOperationJoined':
    case 'StatusPageVisited':
    case 'AccountUpdated':
    case 'ErasureRequested':
    case 'ErasureRefused':
    case 'ErasureConfirmed':
    case 'ContactAnonymized':
    case 'ContactErased':
    case 'OrderDataPurged':
      return [];
    default: {
      const unhandled: never = event.type;
      throw new Error(`no recency rule for ${String(unhandled)}`);
    }
  }
}

/** A dated product counts at its end of validity (possibly in the future), an undated one at the order date. */
function orderActivityDate(event: RecencyInput): string {
  const product = event.data['product'] as { kind?: string; validUntil?: string } | undefined;
  return product?.kind === 'dated' && product.validUntil ? product.validUntil : event.occurredAt;
}

interface RecencyMark {
  date: string;
  eventId: string;
  position: number;
}

export interface RecencyState {
  registration: RecencyMark | null;
  activity: RecencyMark | null;
}

export const initialRecency = (): RecencyState => ({ registration: null, activity: null });

/**
 * Keeps the latest activity and the first registration. Between equal dates the earlier event
 * in the log wins, so the result does not depend on the order the facts are folded in (a
 * rebuild may fold a contact's own events before the sales it benefited from).
 */
export function evolveRecency(state: RecencyState, fact: RecencyFact): RecencyState {
  const mark = () => ({ date: fact.date, eventId: fact.eventId, position: fact.position });
  if (fact.basis === 'registration') {
    return state.registration && state.registration.position <= fact.position
      ? state
      : { registration: mark(), activity: state.activity };
  }
  const kept =
    state.activity &&
    (state.activity.date > fact.date ||
      (state.activity.date === fact.date && state.activity.position <= fact.position));
  return kept ? state : { registration: state.registration, activity: mark() };
}

/** The recency: the latest qualifying date, or the registration date when there is none. */
export function recencyOf(state: RecencyState): { date: string; eventId: string; basis: RecencyFact['basis'] } | null {
  const mark = state.activity ?? state.registration;
  return mark ? { date: mark.date, eventId: mark.eventId, basis: state.activity ? 'activity' : 'registration' } : null;
}

/** Whether a consent event counts for recency: it changed its purpose, and a "yes" remains (see recencyFacts). */
export const consentCountsForRecency = (
  before: ConsentState | undefined,
  after: ConsentState,
  event: RecencyInput,
  purposes: PurposesState,
) => consentChanged(before, after, event) && anyConsentYes(after, purposes);

/**
 * Folds a log (contact events and the purposes' configuration, in log order) into every contact's
 * recency: the reference model the projection must equal.
 */
export function foldRecencies(events: Iterable<RecencyInput | PurposeEvent>): Map<string, RecencyState> {
  const recencies = new Map<string, RecencyState>();
  const consents = new Map<string, ConsentState>();
  let purposes: PurposesState = new Map();
  for (const event of events) {
    if (isPurposeEvent(event)) {
      purposes = evolvePurposes(purposes, event);
      continue;
    }
    const before = consents.get(event.contactId);
    const consent = evolveConsents(before ?? {}, event, purposes);
    consents.set(event.contactId, consent);
    for (const fact of recencyFacts(event, consentCountsForRecency(before, consent, event, purposes))) {
      recencies.set(fact.contactId, evolveRecency(recencies.get(fact.contactId) ?? initialRecency(), fact));
    }
  }
  return recencies;
}
