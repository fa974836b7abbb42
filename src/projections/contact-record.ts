import { initialContactFlags, type ContactFlags } from '../domain/contact-flags.js';
import { initialRecency, recencyOf, type RecencyState } from '../domain/recency.js';
import { NO_ANSWERS } from '../domain/consent.js';
import type { RowProofs } from '../crypto/row-proof.js';
import type { CONTACTS, Row } from './tables.js';

/** One row of the contacts read model: flags and recency, never personal data. */
export interface ContactRecord extends ContactFlags {
  contactId: string;
  recency: RecencyState;
  /** See consentAnswers: kept with the row, changed only when its consents are folded. */
  consentAnswers: string;
  /** The latest end of validity of its own tickets (an option is no ticket), or null. */
  validUntil: string | null;
  /** The log position of the last event folded into it: its own, or a sale naming it as cultural contact. */
  headPosition: number;
}

/**
 * Written out rather than spread: a spread object literal gets a backing store sized for growth,
 * about 440 bytes against 130, and a rebuild holds one record per contact.
 */
export function newContactRecord(contactId: string): ContactRecord {
  const { role, status, customer, balance, restricted, legalHold } = initialContactFlags();
  return {
    role,
    status,
    customer,
    balance,
    restricted,
    legalHold,
    contactId,
    recency: initialRecency(),
    consentAnswers: NO_ANSWERS,
    validUntil: null,
    headPosition: 0,
  };
}

export const currentRecency = (record: ContactRecord) => recencyOf(record.recency);

export type ContactRow = Row<typeof CONTACTS>;

const mark = (date: string | null, eventId: string | null, position: number | null) =>
  date === null ? null : { date, eventId: eventId ?? '', position: position ?? 0 };

export const contactFromRow = (row: ContactRow): ContactRecord => ({
  contactId: row.contact_id,
  role: row.role,
  status: row.status as ContactRecord['status'],
  customer: row.customer === 1,
  balance: row.currency === null ? null : { amount: row.balance, currency: row.currency },
  restricted: row.restricted === 1,
  legalHold: row.legal_hold === 1,
  recency: {
    registration: mark(row.registered_at, row.registered_event, row.registered_position),
    activity: mark(row.activity_at, row.activity_event, row.activity_position),
  },
  consentAnswers: row.consent_answers,
  validUntil: row.valid_until,
  headPosition: row.head_position,
});

const asFlag = (value: boolean): 0 | 1 => (value ? 1 : 0);

/**
 * The columns a row's proof covers: everything the inactive-contact batch decides by, and the log
 * position the row was folded up to. A row whose proof holds and whose position is the log's
 * head for the contact holds what the log would give (see the batch's simulation).
 */
export const PROVEN_COLUMNS = [
  'contact_id',
  'role',
  'status',
  'customer',
  'balance',
  'legal_hold',
  'registered_event',
  'recency_at',
  'valid_until',
  'head_position',
] as const satisfies ReadonlyArray<keyof ContactRow>;

/** What a row's proof is the HMAC of: the proven columns' values, in order. */
export const provenFacts = (row: Pick<ContactRow, (typeof PROVEN_COLUMNS)[number]>): string =>
  provenFactsOf(PROVEN_COLUMNS.map((column) => row[column]));

/** The same of a row read as its values, the proven columns first (what the batch reads). */
export const provenFactsOf = (values: readonly unknown[]): string =>
  JSON.stringify(values.length === PROVEN_COLUMNS.length ? values : values.slice(0, PROVEN_COLUMNS.length));

export function contactRow(record: ContactRecord, proofs: RowProofs): ContactRow {
  const recency = currentRecency(record);
  const { registration, activity } = record.recency;
  const row: Omit<ContactRow, 'proof'> = {
    contact_id: record.contactId,
    role: record.role,
    status: record.status,
    customer: asFlag(record.customer),
    balance: record.balance?.amount ?? 0,
    currency: record.balance?.currency ?? null,
    restricted: asFlag(record.restricted),
    legal_hold: asFlag(record.legalHold),
    registered_at: registration?.date ?? null,
    registered_event: registration?.eventId ?? null,
    registered_position: registration?.position ?? null,
    activity_at: activity?.date ?? null,
    activity_event: activity?.eventId ?? null,
    activity_position: activity?.position ?? null,
    recency_at: recency?.date ?? null,
    recency_event: recency?.eventId ?? null,
    consent_answers: record.consentAnswers,
    valid_until: record.validUntil,
    head_position: record.headPosition,
  };
  return { ...row, proof: proofs.prove(provenFacts(row)) };
}
