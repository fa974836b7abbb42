import { initialContactFlags, type ContactFlags } from '../domain/contact-flags.js';
import { initialRecency, recencyOf, type RecencyState } from '../domain/recency.js';

/** One row of the contacts read model: flags and recency, never personal data. */
export interface ContactRecord extends ContactFlags {
  contactId: string;
  recency: RecencyState;
}

/**
 * Written out rather than spread: a spread object literal gets a backing store sized for growth,
 * about 440 bytes against 130, and a rebuild holds one record per contact.
 */
export function newContactRecord(contactId: string): ContactRecord {
  const { role, status, customer, balance, restricted, legalHold } = initialContactFlags();
  return { role, status, customer, balance, restricted, legalHold, contactId, recency: initialRecency() };
}

export const currentRecency = (record: ContactRecord) => recencyOf(record.recency);

/** A contacts row, as both SQL backends store it (positions may come back as strings: bigint). */
export interface ContactRow {
  contact_id: string;
  role: string | null;
  status: ContactRecord['status'];
  registered_at: string | null;
  registered_event: string | null;
  registered_position: number | string | null;
  customer: number;
  balance: number;
  currency: string | null;
  restricted: number;
  legal_hold: number;
  activity_at: string | null;
  activity_event: string | null;
  activity_position: number | string | null;
  recency_at: string | null;
  recency_event: string | null;
}

/** The contacts table's columns, in the order `contactRowValues` gives them. */
export const CONTACT_COLUMNS = [
  'contact_id',
  'role',
  'registered_at',
  'registered_event',
  'registered_position',
  'status',
  'customer',
  'balance',
  'currency',
  'restricted',
  'legal_hold',
  'activity_at',
  'activity_event',
  'activity_position',
  'recency_at',
  'recency_event',
] as const;

export const contactFromRow = (row: ContactRow): ContactRecord => ({
  contactId: row.contact_id,
  role: row.role,
  status: row.status,
  customer: row.customer === 1,
  balance: row.currency === null ? null : { amount: row.balance, currency: row.currency },
  restricted: row.restricted === 1,
  legalHold: row.legal_hold === 1,
  recency: {
    registration: row.registered_at
      ? { date: row.registered_at, eventId: row.registered_event ?? '', position: Number(row.registered_position ?? 0) }
      : null,
    activity: row.activity_at
      ? { date: row.activity_at, eventId: row.activity_event ?? '', position: Number(row.activity_position ?? 0) }
      : null,
  },
});

/** A record's column values, in CONTACT_COLUMNS order. */
export function contactRowValues(record: ContactRecord): unknown[] {
  const recency = currentRecency(record);
  const { registration, activity } = record.recency;
  return [
    record.contactId,
    record.role,
    registration?.date ?? null,
    registration?.eventId ?? null,
    registration?.position ?? null,
    record.status,
    record.customer ? 1 : 0,
    record.balance?.amount ?? 0,
    record.balance?.currency ?? null,
    record.restricted ? 1 : 0,
    record.legalHold ? 1 : 0,
    activity?.date ?? null,
    activity?.eventId ?? null,
    activity?.position ?? null,
    recency?.date ?? null,
    recency?.eventId ?? null,
  ];
}
