import type { EventType } from '../domain/catalog.js';
import { evolveRecency, initialRecency, recencyOf, type RecencyFact, type RecencyState } from '../domain/recency.js';

/** One row of the contacts read model: ids, dates, flags and counts, never personal data. */
export interface ContactRecord {
  contactId: string;
  role: string | null;
  status: 'active' | 'anonymized' | 'erased';
  /** Ever bought a ticket, or benefited from one as the cultural contact. */
  customer: boolean;
  balance: number;
  currency: string | null;
  restricted: boolean;
  legalHold: boolean;
  recency: RecencyState;
}

export const newContactRecord = (contactId: string): ContactRecord => ({
  contactId, role: null, status: 'active', customer: false, balance: 0, currency: null,
  restricted: false, legalHold: false, recency: initialRecency(),
});

/** A stored event's clear part, as the projection sees it. */
export interface ProjectedEvent {
  id: string;
  type: EventType;
  contactId: string;
  data: Record<string, unknown>;
}

/** Folds one event of the contact's own stream into its record (recency facts come separately). */
export function evolveContactRecord(record: ContactRecord, event: ProjectedEvent): ContactRecord {
  const { data } = event;
  switch (event.type) {
    case 'ContactRegistered':
    case 'ContactDetailsChanged':
      return typeof data['role'] === 'string' ? { ...record, role: data['role'] } : record;
    case 'TicketSold':
      return record.customer ? record : { ...record, customer: true };
    case 'BalanceChanged':
      return { ...record, balance: Number(data['balance']), currency: String(data['currency']) };
    case 'ProcessingRestricted':
      return { ...record, restricted: true };
    case 'RestrictionLifted':
      return { ...record, restricted: false };
    case 'LegalHoldPlaced':
      return { ...record, legalHold: true };
    case 'LegalHoldReleased':
      return { ...record, legalHold: false };
    case 'ContactAnonymized':
      return { ...record, status: 'anonymized' };
    case 'ContactErased':
      return { ...record, status: 'erased' };
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
    case 'OrderDataPurged':
      return record;
    default: {
      const unhandled: never = event.type;
      throw new Error(`no contact rule for ${String(unhandled)}`);
    }
  }
}

export function applyRecencyFact(record: ContactRecord, fact: RecencyFact): ContactRecord {
  const recency = evolveRecency(record.recency, fact);
  return recency === record.recency ? record : { ...record, recency };
}

/** The cultural contact of a sale benefited from a ticket: a customer, not a prospect. */
export const markBenefited = (record: ContactRecord): ContactRecord => (record.customer ? record : { ...record, customer: true });

export const currentRecency = (record: ContactRecord) => recencyOf(record.recency);
