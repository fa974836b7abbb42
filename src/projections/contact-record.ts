import { initialContactFlags, type ContactFlags } from '../domain/contact-flags.js';
import { evolveRecency, initialRecency, recencyOf, type RecencyFact, type RecencyState } from '../domain/recency.js';

/** One row of the contacts read model: flags and recency, never personal data. */
export interface ContactRecord extends ContactFlags {
  contactId: string;
  recency: RecencyState;
}

export const newContactRecord = (contactId: string): ContactRecord => ({ ...initialContactFlags(), contactId, recency: initialRecency() });

export function applyRecencyFact(record: ContactRecord, fact: RecencyFact): ContactRecord {
  const recency = evolveRecency(record.recency, fact);
  return recency === record.recency ? record : { ...record, recency };
}

/** The cultural contact of a sale benefited from a ticket: a customer, not a prospect. */
export const markBenefited = (record: ContactRecord): ContactRecord => (record.customer ? record : { ...record, customer: true });

export const currentRecency = (record: ContactRecord) => recencyOf(record.recency);
