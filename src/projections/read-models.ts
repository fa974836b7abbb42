import type Database from 'better-sqlite3';
import { resetStateDb } from './state-db.js';
import { isEventType } from '../domain/catalog.js';
import { anyConsentYes, evolveConsents, type ConsentState } from '../domain/consent.js';
import { contactIdOfStream } from '../domain/identifiers.js';
import { recencyFacts } from '../domain/recency.js';
import { ValidationError } from '../domain/errors.js';
import type { StoredEvent } from '../store/event-store.js';
import { evolveContactFlags } from '../domain/contact-flags.js';
import { applyRecencyFact, currentRecency, markBenefited, newContactRecord, type ContactRecord } from './contact-record.js';

interface ContactRow {
  contact_id: string; role: string | null; status: ContactRecord['status'];
  registered_at: string | null; registered_event: string | null; registered_position: number | null;
  customer: number; balance: number; currency: string | null; restricted: number; legal_hold: number;
  activity_at: string | null; activity_event: string | null; activity_position: number | null;
  recency_at: string | null; recency_event: string | null;
}

const toRecord = (row: ContactRow): ContactRecord => ({
  contactId: row.contact_id, role: row.role, status: row.status, customer: row.customer === 1,
  balance: row.currency === null ? null : { amount: row.balance, currency: row.currency },
  restricted: row.restricted === 1, legalHold: row.legal_hold === 1,
  recency: {
    registration: row.registered_at ? { date: row.registered_at, eventId: row.registered_event ?? '', position: row.registered_position ?? 0 } : null,
    activity: row.activity_at ? { date: row.activity_at, eventId: row.activity_event ?? '', position: row.activity_position ?? 0 } : null,
  },
});

const toRow = (record: ContactRecord) => {
  const recency = currentRecency(record);
  return {
    contact_id: record.contactId, role: record.role, status: record.status, customer: record.customer ? 1 : 0,
    balance: record.balance?.amount ?? 0, currency: record.balance?.currency ?? null, restricted: record.restricted ? 1 : 0, legal_hold: record.legalHold ? 1 : 0,
    registered_at: record.recency.registration?.date ?? null, registered_event: record.recency.registration?.eventId ?? null,
    registered_position: record.recency.registration?.position ?? null,
    activity_at: record.recency.activity?.date ?? null, activity_event: record.recency.activity?.eventId ?? null,
    activity_position: record.recency.activity?.position ?? null,
    recency_at: recency?.date ?? null, recency_event: recency?.eventId ?? null,
  };
};

export interface ContactReadModel extends Omit<ContactRecord, 'recency'> {
  recency: { date: string; eventId: string; basis: 'activity' | 'registration' } | null;
}

export interface RecencyPage {
  items: Array<{ contactId: string; recency: string }>;
  /** Pass back as `after` for the next page; null on the last page. */
  next: string | null;
}

/**
 * The read models of state.db (contacts with their exact recency, consents, orders) and the
 * batch that maintains them: every event of a batch is folded in memory over the rows it
 * touches, then the rows and the checkpoint are written in one transaction (exactly once).
 */
export class ReadModels {
  private readonly statements;
  private readonly applyInTransaction: (
    projection: string, events: readonly StoredEvent[], emailHashes: ReadonlyMap<string, string>, checkpoint: number) => void;

  constructor(private readonly db: Database.Database) {
    this.statements = {
      checkpoint: db.prepare<[string], number>('SELECT position FROM checkpoints WHERE projection = ?').pluck(),
      saveCheckpoint: db.prepare('INSERT INTO checkpoints (projection, position) VALUES (?, ?) ON CONFLICT (projection) DO UPDATE SET position = excluded.position'),
      contact: db.prepare<[string], ContactRow>('SELECT * FROM contacts WHERE contact_id = ?'),
      // An upsert, not INSERT OR REPLACE: a replace is a delete plus an insert in every index.
      saveContact: db.prepare(`INSERT INTO contacts (contact_id, role, registered_at, registered_event, registered_position, status, customer,
        balance, currency, restricted, legal_hold, activity_at, activity_event, activity_position, recency_at, recency_event)
        VALUES (@contact_id, @role, @registered_at, @registered_event, @registered_position, @status, @customer, @balance, @currency,
        @restricted, @legal_hold, @activity_at, @activity_event, @activity_position, @recency_at, @recency_event)
        ON CONFLICT (contact_id) DO UPDATE SET role = excluded.role, registered_at = excluded.registered_at,
        registered_event = excluded.registered_event, registered_position = excluded.registered_position, status = excluded.status,
        customer = excluded.customer, balance = excluded.balance, currency = excluded.currency, restricted = excluded.restricted,
        legal_hold = excluded.legal_hold, activity_at = excluded.activity_at, activity_event = excluded.activity_event,
        activity_position = excluded.activity_position, recency_at = excluded.recency_at, recency_event = excluded.recency_event`),
      consents: db.prepare<[string], { purpose: string; status: 'yes' | 'no' | 'unknown'; changed_at: string }>(
        'SELECT purpose, status, changed_at FROM consents WHERE contact_id = ?'),
      saveConsent: db.prepare(`INSERT INTO consents (contact_id, purpose, status, changed_at, last_prolonging_at) VALUES (?, ?, ?, ?, ?)
        ON CONFLICT (contact_id, purpose) DO UPDATE SET status = excluded.status, changed_at = excluded.changed_at,
        last_prolonging_at = excluded.last_prolonging_at`),
      // The order belongs to the contact of its first event in the log, whatever the folding order.
      saveOrder: db.prepare(`INSERT INTO orders (order_id, contact_id, first_position, latest_valid_until) VALUES (?, ?, ?, ?)
        ON CONFLICT (order_id) DO UPDATE SET
        contact_id = CASE WHEN excluded.first_position < first_position THEN excluded.contact_id ELSE contact_id END,
        first_position = MIN(first_position, excluded.first_position),
        latest_valid_until = CASE
          WHEN excluded.latest_valid_until IS NULL THEN latest_valid_until
          WHEN latest_valid_until IS NULL OR excluded.latest_valid_until > latest_valid_until THEN excluded.latest_valid_until
          ELSE latest_valid_until END`),
      purgeOrder: db.prepare('UPDATE orders SET purged = 1 WHERE order_id = ?'),
      forgetEmail: db.prepare('DELETE FROM email_index WHERE contact_id = ?'),
      indexEmail: db.prepare('INSERT OR IGNORE INTO email_index (email_hash, contact_id) VALUES (?, ?)'),
      byEmail: db.prepare<[string], string>('SELECT contact_id FROM email_index WHERE email_hash = ? ORDER BY contact_id').pluck(),
      recencyPage: db.prepare<[string, string, string, string, number], { contact_id: string; recency_at: string }>(
        `SELECT contact_id, recency_at FROM contacts WHERE recency_at < ? AND (recency_at > ? OR (recency_at = ? AND contact_id > ?))
         ORDER BY recency_at, contact_id LIMIT ?`),
    };
    this.applyInTransaction = db.transaction(
      (projection: string, events: readonly StoredEvent[], emailHashes: ReadonlyMap<string, string>, checkpoint: number) => {
        this.apply(events, emailHashes);
        this.statements.saveCheckpoint.run(projection, checkpoint);
      });
  }

  /** Empties every read model and checkpoint, for a rebuild from the log. */
  reset(): void {
    resetStateDb(this.db);
  }

  checkpoint(projection: string): number {
    return this.statements.checkpoint.get(projection) ?? 0;
  }

  /**
   * Applies a batch and moves the checkpoint, atomically: by default to the batch's last
   * position. `emailHashes` gives, per event id, the blind-index hash of the e-mail it sets
   * (computed by the caller, which can open seals; this class never sees an address).
   */
  applyBatch(
    projection: string,
    events: readonly StoredEvent[],
    emailHashes: ReadonlyMap<string, string> = new Map(),
    checkpoint = events.at(-1)?.position ?? this.checkpoint(projection),
  ): void {
    this.applyInTransaction(projection, events, emailHashes, checkpoint);
  }

  /** Contacts whose e-mail has this blind-index hash. */
  contactsByEmailHash(hash: string): string[] {
    return this.statements.byEmail.all(hash);
  }

  contact(contactId: string): ContactReadModel | null {
    const row = this.statements.contact.get(contactId);
    if (!row) return null;
    const record = toRecord(row);
    const { recency, ...rest } = record;
    return { ...rest, recency: currentRecency(record) };
  }

  consents(contactId: string): ConsentState {
    return Object.fromEntries(this.statements.consents.all(contactId).map((c) => [c.purpose, { status: c.status, changedAt: c.changed_at }]));
  }

  private apply(events: readonly StoredEvent[], emailHashes: ReadonlyMap<string, string>): void {
    const contacts = new Map<string, ContactRecord>();
    const consents = new Map<string, ConsentState>();
    const dirtyConsents = new Map<string, Set<string>>();
    const record = (contactId: string) => {
      let found = contacts.get(contactId);
      if (!found) {
        const row = this.statements.contact.get(contactId);
        found = row ? toRecord(row) : newContactRecord(contactId);
        contacts.set(contactId, found);
      }
      return found;
    };
    for (const stored of events) {
      const contactId = contactIdOfStream(stored.stream);
      if (!contactId || !isEventType(stored.type)) continue;
      const event = { id: stored.id, type: stored.type, contactId, position: stored.position, occurredAt: stored.occurredAt, data: stored.data };
      contacts.set(contactId, evolveContactFlags(record(contactId), event));
      let stillYes = false;
      if (event.type === 'ConsentGiven' || event.type === 'ConsentWithdrawn' || event.type === 'ConsentExpired') {
        const before = consents.get(contactId) ?? this.consents(contactId);
        const after = evolveConsents(before, event);
        consents.set(contactId, after);
        const purposes = dirtyConsents.get(contactId) ?? new Set<string>();
        purposes.add(String(event.data['purpose']));
        dirtyConsents.set(contactId, purposes);
        stillYes = anyConsentYes(after);
      }
      for (const fact of recencyFacts(event, stillYes)) contacts.set(fact.contactId, applyRecencyFact(record(fact.contactId), fact));
      const cultural = event.data['culturalContactId'];
      if (event.type === 'TicketSold' && typeof cultural === 'string') contacts.set(cultural, markBenefited(record(cultural)));
      this.projectOrder(event);
      this.projectEmail(event, emailHashes.get(event.id));
    }
    for (const contact of contacts.values()) this.statements.saveContact.run(toRow(contact));
    for (const [contactId, purposes] of dirtyConsents) {
      const state = consents.get(contactId) ?? {};
      for (const purpose of purposes) {
        const consent = state[purpose];
        if (consent) this.statements.saveConsent.run(contactId, purpose, consent.status, consent.changedAt, consent.changedAt);
      }
    }
  }

  /** One address per contact in the index: a new one replaces it; forgetting removes it. */
  private projectEmail(event: { type: string; contactId: string }, emailHash: string | undefined): void {
    if (event.type === 'ContactAnonymized' || event.type === 'ContactErased') this.statements.forgetEmail.run(event.contactId);
    else if (emailHash) {
      this.statements.forgetEmail.run(event.contactId);
      this.statements.indexEmail.run(emailHash, event.contactId);
    }
  }

  private projectOrder(event: { type: string; contactId: string; position: number; data: Record<string, unknown> }): void {
    const orderId = event.data['orderId'];
    if (typeof orderId !== 'string') return;
    if (event.type === 'OrderDataPurged') {
      this.statements.purgeOrder.run(orderId);
      return;
    }
    if (!['OptionTaken', 'OptionConfirmed', 'ReservationMade', 'TicketSold'].includes(event.type)) return;
    const product = event.data['product'] as { validUntil?: string } | undefined;
    this.statements.saveOrder.run(orderId, event.contactId, event.position, product?.validUntil ?? null);
  }

  /** Contacts whose recency is older than `before`, in (recency, id) order; keyset paged. */
  recencyBefore(before: string, after: string | null, limit: number): RecencyPage {
    const [afterRecency, afterId] = after ? decodeCursor(after) : ['', ''];
    const rows = this.statements.recencyPage.all(before, afterRecency, afterRecency, afterId, limit);
    const last = rows.at(-1);
    return {
      items: rows.map((row) => ({ contactId: row.contact_id, recency: row.recency_at })),
      next: rows.length === limit && last ? encodeCursor(last.recency_at, last.contact_id) : null,
    };
  }
}

const encodeCursor = (recency: string, contactId: string) => Buffer.from(JSON.stringify([recency, contactId])).toString('base64url');
function decodeCursor(cursor: string): [string, string] {
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    decoded = null;
  }
  if (!Array.isArray(decoded) || decoded.length !== 2 || !decoded.every((part) => typeof part === 'string')) {
    throw new ValidationError('after is not a cursor returned by this route', [{ pointer: '/after', message: 'is not a valid cursor' }]);
  }
  return decoded as [string, string];
}
