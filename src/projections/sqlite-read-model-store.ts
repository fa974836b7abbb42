import type Database from 'better-sqlite3';
import type { ConsentState, ConsentStatus } from '../domain/consent.js';
import { CONTACT_COLUMNS, contactFromRow, contactRowValues, type ContactRow } from './contact-record.js';
import { consentRows, type ReadModelChanges } from './fold-batch.js';
import type { ReadModelStore } from './read-model-store.js';
import { connectStateDb, openStateDb, resetStateDb, SECONDARY_INDEXES } from './state-db.js';
import { upsertSet } from '../store/sql.js';

/**
 * Rows in key order: B-tree inserts then append to the same pages instead of scattering. The keys
 * are sorted natively, without a comparator: about twice as fast.
 */
function* byKey<T>(rows: ReadonlyMap<string, T>): Generator<T> {
  for (const key of [...rows.keys()].sort()) yield rows.get(key)!;
}

/**
 * The read models in state.db (see openStateDb), over two connections: one reads, one writes. A
 * commit's transaction stays open while it awaits the e-mail hashes (see ReadModelChanges), and
 * WAL keeps it from the reading connection meanwhile (API requests, the runner's row loads).
 */
export class SqliteReadModelStore implements ReadModelStore {
  private readonly db: Database.Database;
  private readonly writer: Database.Database;
  private readonly statements;
  /** Commits and resets, one at a time: a commit's transaction spans an await. */
  private writes: Promise<unknown> = Promise.resolve();

  constructor(path: string) {
    this.db = openStateDb(path);
    this.writer = connectStateDb(path);
    const { db, writer } = this;
    // Orders are staged as they come, then upserted in key order by SQLite: its sort beats sorting
    // the (many) order ids here, and the B-tree is still filled in order. Temp tables are this
    // connection's own and roll back with the transaction.
    writer.exec(
      'CREATE TEMP TABLE IF NOT EXISTS staged_orders (order_id TEXT, contact_id TEXT, first_position INTEGER, latest_valid_until TEXT)',
    );
    this.statements = {
      checkpoint: db.prepare<[string], number>('SELECT position FROM checkpoints WHERE projection = ?').pluck(),
      saveCheckpoint: writer.prepare(
        'INSERT INTO checkpoints (projection, position) VALUES (?, ?) ON CONFLICT (projection) DO UPDATE SET position = excluded.position',
      ),
      contact: db.prepare<[string], ContactRow>('SELECT * FROM contacts WHERE contact_id = ?'),
      // An upsert, not INSERT OR REPLACE: a replace is a delete plus an insert in every index.
      saveContact:
        writer.prepare(`INSERT INTO contacts (${CONTACT_COLUMNS.join(', ')}) VALUES (${CONTACT_COLUMNS.map(() => '?').join(', ')})
        ON CONFLICT (contact_id) DO UPDATE SET ${upsertSet(CONTACT_COLUMNS.slice(1))}`),
      consents: db.prepare<[string], { purpose: string; status: ConsentStatus; changed_at: string }>(
        'SELECT purpose, status, changed_at FROM consents WHERE contact_id = ?',
      ),
      saveConsent:
        writer.prepare(`INSERT INTO consents (contact_id, purpose, status, changed_at, last_prolonging_at) VALUES (?, ?, ?, ?, ?)
        ON CONFLICT (contact_id, purpose) DO UPDATE SET status = excluded.status, changed_at = excluded.changed_at,
        last_prolonging_at = excluded.last_prolonging_at`),
      stageOrder: writer.prepare(
        'INSERT INTO staged_orders (order_id, contact_id, first_position, latest_valid_until) VALUES (?, ?, ?, ?)',
      ),
      saveStagedOrders: writer.prepare(`INSERT INTO orders (order_id, contact_id, first_position, latest_valid_until)
        SELECT order_id, contact_id, first_position, latest_valid_until FROM staged_orders WHERE true ORDER BY order_id
        ON CONFLICT (order_id) DO UPDATE SET
        contact_id = CASE WHEN excluded.first_position < first_position THEN excluded.contact_id ELSE contact_id END,
        first_position = MIN(first_position, excluded.first_position),
        latest_valid_until = CASE
          WHEN excluded.latest_valid_until IS NULL THEN latest_valid_until
          WHEN latest_valid_until IS NULL OR excluded.latest_valid_until > latest_valid_until THEN excluded.latest_valid_until
          ELSE latest_valid_until END`),
      clearStagedOrders: writer.prepare('DELETE FROM staged_orders'),
      purgeOrder: writer.prepare('UPDATE orders SET purged = 1 WHERE order_id = ?'),
      forgetEmail: writer.prepare('DELETE FROM email_index WHERE contact_id = ?'),
      indexEmail: writer.prepare(
        'INSERT INTO email_index (contact_id, email_hash) VALUES (?, ?) ON CONFLICT (contact_id) DO UPDATE SET email_hash = excluded.email_hash',
      ),
      byEmail: db
        .prepare<[string], string>('SELECT contact_id FROM email_index WHERE email_hash = ? ORDER BY contact_id')
        .pluck(),
      recencyPage: db.prepare<[string, string, string, string, number], { contact_id: string; recency_at: string }>(
        `SELECT contact_id, recency_at FROM contacts WHERE recency_at < ? AND (recency_at > ? OR (recency_at = ? AND contact_id > ?))
         ORDER BY recency_at, contact_id LIMIT ?`,
      ),
    };
  }

  /** Runs a write after the ones before it (whatever became of them). */
  private inTurn<T>(write: () => Promise<T>): Promise<T> {
    const turn = this.writes.then(write, write);
    this.writes = turn.catch(() => {});
    return turn;
  }

  /** The rows of a commit, e-mail index aside. */
  private writeRows(changes: ReadModelChanges): void {
    for (const contact of byKey(changes.contacts)) this.statements.saveContact.run(...contactRowValues(contact));
    for (const { contactId, purpose, status, changedAt } of consentRows(changes.consents)) {
      this.statements.saveConsent.run(contactId, purpose, status, changedAt, changedAt);
    }
    for (const o of changes.orders.values())
      this.statements.stageOrder.run(o.orderId, o.contactId, o.firstPosition, o.validUntil);
    this.statements.saveStagedOrders.run();
    this.statements.clearStagedOrders.run();
    for (const orderId of changes.purgedOrders) this.statements.purgeOrder.run(orderId);
  }

  async checkpoint(projection: string) {
    return this.statements.checkpoint.get(projection) ?? 0;
  }

  async contacts(contactIds: readonly string[]) {
    return contactIds.flatMap((id) => {
      const row = this.statements.contact.get(id);
      return row ? [contactFromRow(row)] : [];
    });
  }

  async consents(contactIds: readonly string[]) {
    return new Map(
      contactIds.map((id): [string, ConsentState] => [
        id,
        Object.fromEntries(
          this.statements.consents.all(id).map((c) => [c.purpose, { status: c.status, changedAt: c.changed_at }]),
        ),
      ]),
    );
  }

  commit(projection: string, changes: ReadModelChanges, checkpoint: number): Promise<void> {
    return this.inTurn(async () => {
      this.writer.exec('BEGIN IMMEDIATE');
      try {
        this.writeRows(changes);
        for (const [contactId, hash] of await changes.emails) {
          if (hash === null) this.statements.forgetEmail.run(contactId);
          else this.statements.indexEmail.run(contactId, hash);
        }
        this.statements.saveCheckpoint.run(projection, checkpoint);
        this.writer.exec(SECONDARY_INDEXES);
        this.writer.exec('COMMIT');
      } catch (error) {
        if (this.writer.inTransaction) this.writer.exec('ROLLBACK');
        throw error;
      }
    });
  }

  reset(): Promise<void> {
    return this.inTurn(async () => resetStateDb(this.writer));
  }

  async contactsByEmailHash(hash: string) {
    return this.statements.byEmail.all(hash);
  }

  async recencyPage(before: string, after: { recency: string; contactId: string } | null, limit: number) {
    const { recency, contactId } = after ?? { recency: '', contactId: '' };
    return this.statements.recencyPage
      .all(before, recency, recency, contactId, limit)
      .map((row) => ({ contactId: row.contact_id, recency: row.recency_at }));
  }

  async close() {
    await this.writes;
    this.writer.close();
    this.db.close();
  }
}
