import type pg from 'pg';
import type { ConsentState, ConsentStatus } from '../domain/consent.js';
import { CONTACT_COLUMNS, contactFromRow, contactRowValues, type ContactRow } from '../projections/contact-record.js';
import { consentRows, type ReadModelChanges } from '../projections/fold-batch.js';
import type { ReadModelStore } from '../projections/read-model-store.js';
import { createSchema, inTransaction, schemaIdentifier } from './database.js';
import { upsertSet } from '../store/sql.js';

/** The read models of state.db, as PostgreSQL tables; ids sort bytewise (COLLATE "C") for the keyset cursors. */
const ddl = (s: string) => `
  CREATE TABLE IF NOT EXISTS ${s}.checkpoints (projection text PRIMARY KEY, position bigint NOT NULL);
  CREATE TABLE IF NOT EXISTS ${s}.contacts (
    contact_id text COLLATE "C" PRIMARY KEY,
    role text,
    registered_at text,
    registered_event text,
    registered_position bigint,
    status text NOT NULL DEFAULT 'active',
    customer smallint NOT NULL DEFAULT 0,
    balance double precision NOT NULL DEFAULT 0,
    currency text,
    restricted smallint NOT NULL DEFAULT 0,
    legal_hold smallint NOT NULL DEFAULT 0,
    activity_at text,
    activity_event text,
    activity_position bigint,
    recency_at text COLLATE "C",
    recency_event text);
  CREATE INDEX IF NOT EXISTS contacts_by_recency ON ${s}.contacts (recency_at, contact_id);
  CREATE TABLE IF NOT EXISTS ${s}.consents (
    contact_id text NOT NULL,
    purpose text NOT NULL,
    status text NOT NULL,
    changed_at text NOT NULL,
    last_prolonging_at text NOT NULL,
    PRIMARY KEY (contact_id, purpose));
  CREATE TABLE IF NOT EXISTS ${s}.orders (
    order_id text PRIMARY KEY,
    contact_id text NOT NULL,
    first_position bigint NOT NULL,
    latest_valid_until text,
    purged smallint NOT NULL DEFAULT 0);
  CREATE INDEX IF NOT EXISTS orders_by_contact ON ${s}.orders (contact_id);
  CREATE TABLE IF NOT EXISTS ${s}.email_index (
    email_hash text NOT NULL,
    contact_id text NOT NULL,
    PRIMARY KEY (email_hash, contact_id));
  CREATE INDEX IF NOT EXISTS email_index_by_contact ON ${s}.email_index (contact_id);`;

const CONTACT_TYPES = [
  'text',
  'text',
  'text',
  'text',
  'bigint',
  'text',
  'smallint',
  'float8',
  'text',
  'smallint',
  'smallint',
  'text',
  'text',
  'bigint',
  'text',
  'text',
];

/** Column arrays of rows, for one INSERT ... SELECT FROM unnest(...) per table and batch. */
const columnsOf = (rows: unknown[][], width: number) =>
  Array.from({ length: width }, (_, i) => rows.map((row) => row[i]));

/** The read models in PostgreSQL, beside the events (same schema); each batch is one transaction. */
export class PgReadModelStore implements ReadModelStore {
  private readonly s: string;

  private constructor(
    private readonly pool: pg.Pool,
    schema: string,
  ) {
    this.s = schemaIdentifier(schema);
  }

  static async open(pool: pg.Pool, schema: string): Promise<PgReadModelStore> {
    await createSchema(pool, schema, ddl(schemaIdentifier(schema)));
    return new PgReadModelStore(pool, schema);
  }

  async checkpoint(projection: string) {
    const {
      rows: [row],
    } = await this.pool.query<{ position: string }>(
      `SELECT position FROM ${this.s}.checkpoints WHERE projection = $1`,
      [projection],
    );
    return Number(row?.position ?? 0);
  }

  async contacts(contactIds: readonly string[]) {
    if (contactIds.length === 0) return [];
    const { rows } = await this.pool.query<ContactRow>(
      `SELECT * FROM ${this.s}.contacts WHERE contact_id = ANY($1::text[])`,
      [contactIds],
    );
    return rows.map(contactFromRow);
  }

  async consents(contactIds: readonly string[]) {
    const result = new Map<string, ConsentState>(contactIds.map((id) => [id, {}]));
    if (contactIds.length === 0) return result;
    const { rows } = await this.pool.query<{
      contact_id: string;
      purpose: string;
      status: ConsentStatus;
      changed_at: string;
    }>(`SELECT contact_id, purpose, status, changed_at FROM ${this.s}.consents WHERE contact_id = ANY($1::text[])`, [
      contactIds,
    ]);
    for (const row of rows)
      result.get(row.contact_id)![row.purpose] = { status: row.status, changedAt: row.changed_at };
    return result;
  }

  async commit(projection: string, changes: ReadModelChanges, checkpoint: number) {
    await inTransaction(this.pool, async (client) => {
      if (changes.contacts.size > 0) {
        await client.query(
          `INSERT INTO ${this.s}.contacts (${CONTACT_COLUMNS.join(', ')})
           SELECT * FROM unnest(${CONTACT_TYPES.map((type, i) => `$${i + 1}::${type}[]`).join(', ')})
           ON CONFLICT (contact_id) DO UPDATE SET ${upsertSet(CONTACT_COLUMNS.slice(1))}`,
          columnsOf([...changes.contacts.values()].map(contactRowValues), CONTACT_COLUMNS.length),
        );
      }
      const consents = [...consentRows(changes.consents)];
      if (consents.length > 0) {
        await client.query(
          `INSERT INTO ${this.s}.consents (contact_id, purpose, status, changed_at, last_prolonging_at)
           SELECT c, p, s, t, t FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS u(c, p, s, t)
           ON CONFLICT (contact_id, purpose) DO UPDATE SET status = excluded.status, changed_at = excluded.changed_at,
             last_prolonging_at = excluded.last_prolonging_at`,
          columnsOf(
            consents.map((c) => [c.contactId, c.purpose, c.status, c.changedAt]),
            4,
          ),
        );
      }
      if (changes.orders.size > 0) {
        // The order belongs to the contact of its first event in the log, whatever the folding order.
        await client.query(
          `INSERT INTO ${this.s}.orders AS o (order_id, contact_id, first_position, latest_valid_until)
           SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[])
           ON CONFLICT (order_id) DO UPDATE SET
             contact_id = CASE WHEN excluded.first_position < o.first_position THEN excluded.contact_id ELSE o.contact_id END,
             first_position = LEAST(o.first_position, excluded.first_position),
             latest_valid_until = GREATEST(o.latest_valid_until, excluded.latest_valid_until)`,
          columnsOf(
            [...changes.orders.values()].map((o) => [o.orderId, o.contactId, o.firstPosition, o.validUntil]),
            4,
          ),
        );
      }
      if (changes.purgedOrders.size > 0) {
        await client.query(`UPDATE ${this.s}.orders SET purged = 1 WHERE order_id = ANY($1::text[])`, [
          [...changes.purgedOrders],
        ]);
      }
      const emails = await changes.emails;
      if (emails.size > 0) {
        const indexed = [...emails].filter((entry): entry is [string, string] => entry[1] !== null);
        await client.query(`DELETE FROM ${this.s}.email_index WHERE contact_id = ANY($1::text[])`, [
          [...emails.keys()],
        ]);
        await client.query(
          `INSERT INTO ${this.s}.email_index (contact_id, email_hash) SELECT * FROM unnest($1::text[], $2::text[])
          ON CONFLICT DO NOTHING`,
          columnsOf(indexed, 2),
        );
      }
      await client.query(
        `INSERT INTO ${this.s}.checkpoints (projection, position) VALUES ($1, $2)
        ON CONFLICT (projection) DO UPDATE SET position = excluded.position`,
        [projection, checkpoint],
      );
    });
  }

  async reset() {
    await this.pool.query(
      `TRUNCATE ${this.s}.checkpoints, ${this.s}.contacts, ${this.s}.consents, ${this.s}.orders, ${this.s}.email_index`,
    );
  }

  async contactsByEmailHash(hash: string) {
    const { rows } = await this.pool.query<{ contact_id: string }>(
      `SELECT contact_id FROM ${this.s}.email_index WHERE email_hash = $1 ORDER BY contact_id COLLATE "C"`,
      [hash],
    );
    return rows.map((row) => row.contact_id);
  }

  async recencyPage(before: string, after: { recency: string; contactId: string } | null, limit: number) {
    const { recency, contactId } = after ?? { recency: '', contactId: '' };
    const { rows } = await this.pool.query<{ contact_id: string; recency_at: string }>(
      `SELECT contact_id, recency_at FROM ${this.s}.contacts WHERE recency_at < $1 AND (recency_at, contact_id) > ($2, $3)
       ORDER BY recency_at, contact_id LIMIT $4`,
      [before, recency, contactId, limit],
    );
    return rows.map((row) => ({ contactId: row.contact_id, recency: row.recency_at }));
  }

  /** The pool belongs to whoever opened it. */
  async close() {}
}
