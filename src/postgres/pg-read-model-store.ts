import { targetingSql, type TargetQuery, type TargetTally } from '../projections/targeting-sql.js';
import type pg from 'pg';
import {
  INACTIVITY_COLUMNS,
  type ExpiringRow,
  type InactivityValues,
  type ReadModelStore,
  type ReadModelWrites,
  type RebuildTarget,
} from '../projections/read-model-store.js';
import {
  CHECKPOINTS,
  columnsOf,
  CONTACTS,
  createIndexesSql,
  createTableSql,
  LISTED_CONTACT,
  onConflictReplace,
  READ_MODEL_TABLES,
  READ_MODEL_VERSION,
  type Column,
  type ColumnType,
  type Row,
  type Table,
} from '../projections/tables.js';
import {
  DEAD_LETTERS,
  DELIVERY_CHECKPOINTS,
  DELIVERY_HEALTH,
  DELIVERY_TABLES,
  NO_DELIVERY_YET,
  deadLetterOf,
  deadLetterRow,
  deliveryHealthOf,
  deliveryHealthRow,
  type DeadLetter,
  type DeliveryHealth,
} from '../projections/delivery-tables.js';
import { createSchema, inTransaction, schemaIdentifier, type LedgerPool } from './database.js';

/** The prefix of a rebuild's new tables and their indexes, swapped in whole when it ends. */
const SHADOW_PREFIX = 'rebuild_';

/** Ids and dates sort bytewise (COLLATE "C"), as in SQLite, for the keyset cursors. */
const PG_TYPES: Record<ColumnType, string> = {
  text: 'text COLLATE "C"',
  integer: 'bigint',
  real: 'double precision',
  flag: 'smallint',
};
const ARRAY_TYPES: Record<ColumnType, string> = { text: 'text', integer: 'bigint', real: 'float8', flag: 'smallint' };

/**
 * The read models (tables.ts) as PostgreSQL tables, beside the events (same schema). A schema at
 * another version has its read-model tables dropped and made again; the runner then rebuilds them.
 */
function ddl(s: string): string {
  const qualified = (name: string) => `${s}.${name}`;
  const dialect = { qualified, type: (column: Column) => PG_TYPES[column.type], suffix: '' };
  return `
    CREATE TABLE IF NOT EXISTS ${s}.read_model_version (version integer NOT NULL);
    DO $$ BEGIN
      IF NOT EXISTS (SELECT 1 FROM ${s}.read_model_version WHERE version = ${READ_MODEL_VERSION}) THEN
        DROP TABLE IF EXISTS ${READ_MODEL_TABLES.map((table) => qualified(table.name)).join(', ')};
        DELETE FROM ${s}.read_model_version;
        INSERT INTO ${s}.read_model_version VALUES (${READ_MODEL_VERSION});
      END IF;
    END $$;
    ${READ_MODEL_TABLES.map((table) => createTableSql(table, dialect)).join('\n')}
    ${DELIVERY_TABLES.map((table) => createTableSql(table, dialect)).join('\n')}
    ${createIndexesSql(qualified)}`;
}

/** bigint columns come back as strings (see openPool): positions fit in a double. */
function fromPg<T extends Table>(table: T, row: Record<string, unknown>): Row<T> {
  for (const [name, column] of Object.entries(table.columns)) {
    // A bigint arrives as text; a column the query did not select stays absent.
    if (column.type === 'integer' && typeof row[name] === 'string') row[name] = Number(row[name]);
  }
  return row as Row<T>;
}

/** The read models in PostgreSQL; each commit is one transaction, each table written by one statement. */
/** Rows per upsert statement: a few tens of milliseconds of PostgreSQL's work each. */
const UPSERT_CHUNK = 20_000;

export class PgReadModelStore implements ReadModelStore {
  private readonly s: string;

  private constructor(
    private readonly pool: LedgerPool,
    private readonly schema: string,
    /** The tables' names: the read models', or a rebuild's new tables (`rebuild_<name>`). */
    private readonly prefix = '',
  ) {
    this.s = schemaIdentifier(schema);
  }

  /** A table of this store, qualified by its schema. */
  private t(table: string): string {
    return `${this.s}.${this.prefix}${table}`;
  }

  static async open(pool: LedgerPool, schema: string): Promise<PgReadModelStore> {
    await createSchema(pool, schema, ddl(schemaIdentifier(schema)));
    return new PgReadModelStore(pool, schema);
  }

  /**
   * One INSERT ... SELECT FROM unnest(column arrays) per UPSERT_CHUNK rows of a table, in the
   * commit's transaction: each statement stays short (LEDGER_DATABASE_TIMEOUT bounds each one),
   * even for a rebuild's window of 400,000 rows.
   */
  private async upsert(client: pg.PoolClient, table: Table, rows: Iterable<Record<string, unknown>>) {
    const columns = Object.entries(table.columns);
    const text = `INSERT INTO ${this.t(table.name)} (${columnsOf(table).join(', ')})
       SELECT * FROM unnest(${columns.map(([, column], i) => `$${i + 1}::${ARRAY_TYPES[column.type]}[]`).join(', ')})
       ${onConflictReplace(table)}`;
    let arrays: unknown[][] = columns.map(() => []);
    const flush = async () => {
      if (arrays[0]!.length > 0) await client.query(text, arrays);
      arrays = columns.map(() => []);
    };
    for (const row of rows) {
      columns.forEach(([name], i) => arrays[i]!.push(row[name]));
      if (arrays[0]!.length >= UPSERT_CHUNK) await flush();
    }
    await flush();
  }

  private writesOn(client: pg.PoolClient): ReadModelWrites {
    return {
      upsert: (table, rows) => this.upsert(client, table, rows),
      delete: async (table, column, values) => {
        if (values.length === 0) return;
        await client.query(`DELETE FROM ${this.t(table.name)} WHERE ${column} = ANY($1::text[])`, [values]);
      },
    };
  }

  async rowsAfter<T extends Table>(table: T, after: readonly unknown[] | null, limit: number) {
    const key = table.key.join(', ');
    const where = after ? `WHERE (${key}) > (${table.key.map((_, i) => `$${i + 1}`).join(', ')})` : '';
    const { rows } = await this.pool.query(
      `SELECT * FROM ${this.t(table.name)} ${where} ORDER BY ${key} LIMIT $${(after?.length ?? 0) + 1}`,
      [...(after ?? []), limit],
    );
    return rows.map((row: Record<string, unknown>) => fromPg(table, row));
  }

  async allRows<T extends Table>(table: T) {
    const { rows } = await this.pool.query(`SELECT * FROM ${this.t(table.name)}`);
    return rows.map((row: Record<string, unknown>) => fromPg(table, row));
  }

  async rows<T extends Table>(table: T, column: keyof T['columns'] & string, values: readonly string[]) {
    if (values.length === 0) return [];
    const { rows } = await this.pool.query(`SELECT * FROM ${this.t(table.name)} WHERE ${column} = ANY($1::text[])`, [
      values,
    ]);
    return rows.map((row: Record<string, unknown>) => fromPg(table, row));
  }

  async checkpoint(projection: string) {
    const [row] = await this.rows(CHECKPOINTS, 'projection', [projection]);
    return row?.position ?? 0;
  }

  async commit(projection: string, checkpoint: number, write: (writes: ReadModelWrites) => Promise<void>) {
    await inTransaction(this.pool, async (client) => {
      await write(this.writesOn(client));
      await this.upsert(client, CHECKPOINTS, [{ projection, position: checkpoint }]);
    });
  }

  /**
   * New tables beside the read models, in the same schema (`rebuild_<name>`, without their query
   * indexes until the swap): a rebuild writes them while readers read the read models as they
   * were. The swap drops the old tables and renames the new ones (and their indexes) in one
   * transaction: catalog changes only, so readers wait on it a moment, then read the new tables.
   */
  async rebuildTarget(): Promise<RebuildTarget> {
    if (this.prefix !== '') throw new Error('a rebuild cannot rebuild into its own tables');
    const shadow = (name: string) => `${this.s}.${SHADOW_PREFIX}${name}`;
    const dropShadow = READ_MODEL_TABLES.map((table) => `DROP TABLE IF EXISTS ${shadow(table.name)};`).join('\n');
    const dialect = { qualified: shadow, type: (column: Column) => PG_TYPES[column.type], suffix: '' };
    await createSchema(
      this.pool,
      this.schema,
      `${dropShadow}\n${READ_MODEL_TABLES.map((table) => createTableSql(table, dialect)).join('\n')}`,
    );
    return {
      store: new PgReadModelStore(this.pool, this.schema, SHADOW_PREFIX),
      swapIn: async () => {
        const indexes = READ_MODEL_TABLES.flatMap((table) =>
          Object.entries(table.indexes).map(([name, columns]) => ({ table: table.name, name, columns })),
        );
        // Built before the swap, on the new tables (readers wait only for the renames).
        for (const { table, name, columns } of indexes)
          await this.pool.query(
            `CREATE INDEX IF NOT EXISTS ${SHADOW_PREFIX}${name} ON ${shadow(table)} (${columns.join(', ')})`,
          );
        await inTransaction(this.pool, async (client) => {
          for (const table of READ_MODEL_TABLES) {
            await client.query(`DROP TABLE IF EXISTS ${this.s}.${table.name}`);
            await client.query(`ALTER TABLE ${shadow(table.name)} RENAME TO ${table.name}`);
            await client.query(`ALTER INDEX ${shadow(`${table.name}_pkey`)} RENAME TO ${table.name}_pkey`);
          }
          for (const { name } of indexes) await client.query(`ALTER INDEX ${shadow(name)} RENAME TO ${name}`);
        });
      },
      discard: async () => void (await this.pool.query(dropShadow)),
    };
  }

  async reset() {
    await this.pool.query(`TRUNCATE ${READ_MODEL_TABLES.map((table) => `${this.t(table.name)}`).join(', ')}`);
  }

  async contactsByEmailHash(hash: string) {
    const { rows } = await this.pool.query<{ contact_id: string }>(
      `SELECT contact_id FROM ${this.t('email_index')} WHERE email_hash = $1 ORDER BY contact_id`,
      [hash],
    );
    return rows.map((row) => row.contact_id);
  }

  async recencyPage(
    before: string,
    roles: readonly string[],
    after: { recency: string; contactId: string } | null,
    limit: number,
  ) {
    const { recency, contactId } = after ?? { recency: '', contactId: '' };
    const { rows } = await this.pool.query<Record<string, unknown>>(
      `SELECT * FROM ${this.t('contacts')}
       WHERE recency_at < $1 AND (recency_at, contact_id) > ($2, $3) AND ${LISTED_CONTACT} AND role = ANY($4::text[])
       ORDER BY recency_at, contact_id LIMIT $5`,
      [before, recency, contactId, roles, limit],
    );
    return rows.map((row) => fromPg(CONTACTS, row));
  }

  async inactivityPage(before: string, afterContactId: string, limit: number) {
    const { rows } = await this.pool.query<Record<string, unknown>>(
      `SELECT ${INACTIVITY_COLUMNS.join(', ')} FROM ${this.t('contacts')}
       WHERE contact_id > $1 AND recency_at < $2 AND ${LISTED_CONTACT} ORDER BY contact_id LIMIT $3`,
      [afterContactId, before, limit],
    );
    return rows.map((row) => {
      const converted = fromPg(CONTACTS, row);
      return INACTIVITY_COLUMNS.map((column) => converted[column]) as InactivityValues;
    });
  }

  async purgeablePage(before: string, afterOrderId: string, limit: number) {
    const { rows } = await this.pool.query<{ order_id: string; contact_id: string }>(
      `SELECT order_id, contact_id FROM ${this.t('orders')}
       WHERE order_id > $1 AND purged = 0 AND earliest_end < $2 ORDER BY order_id LIMIT $3`,
      [afterOrderId, before, limit],
    );
    return rows;
  }

  async expiringPage(
    purpose: string,
    before: string,
    after: { lastActivityAt: string; contactId: string } | null,
    limit: number,
  ) {
    const { lastActivityAt, contactId } = after ?? { lastActivityAt: '', contactId: '' };
    const { rows } = await this.pool.query<ExpiringRow>(
      `SELECT contact_id, last_activity_at FROM ${this.t('consents')}
       WHERE purpose = $1 AND status = 'yes' AND last_activity_at < $2 AND (last_activity_at, contact_id) > ($3, $4)
       ORDER BY last_activity_at, contact_id LIMIT $5`,
      [purpose, before, lastActivityAt, contactId, limit],
    );
    return rows;
  }

  async targetingTally(query: TargetQuery) {
    const values: unknown[] = [];
    const param = (value: unknown) => `$${values.push(value)}`;
    const sql = targetingSql(query, {
      qualified: (table) => this.t(table),
      param,
      inIds: (ids) => `= ANY(${param(ids)}::text[])`,
      fence: ' OFFSET 0',
    });
    const { rows } = await this.pool.query(sql, values);
    // count(*) is a bigint, which pg hands over as a string.
    const [row] = rows as Array<Record<string, string | null>>;
    return Object.fromEntries(
      Object.entries(row!).map(([name, value]) => [name, name === 'eligible' ? value : Number(value)]),
    ) as TargetTally;
  }

  /** The pool belongs to whoever opened it. */
  /** The delivery tables are the schema's own, whatever the prefix: a rebuild never touches them. */
  async deliveryCheckpoint(subscriberId: string) {
    const { rows } = await this.pool.query(
      `SELECT position FROM ${this.s}.${DELIVERY_CHECKPOINTS.name} WHERE subscriber_id = $1`,
      [subscriberId],
    );
    return rows.length === 0 ? 0 : Number((rows[0] as { position: string }).position);
  }

  async advanceDelivery(
    subscriberId: string,
    name: string,
    position: number,
    deadLetters: readonly DeadLetter[],
    health?: DeliveryHealth,
  ) {
    await inTransaction(this.pool, async (client) => {
      for (const letter of deadLetters) await this.upsertOne(client, DEAD_LETTERS, deadLetterRow(letter));
      await this.upsertOne(client, DELIVERY_CHECKPOINTS, { subscriber_id: subscriberId, name, position });
      if (health) await this.upsertOne(client, DELIVERY_HEALTH, deliveryHealthRow(subscriberId, health));
    });
  }

  async deliveryHealth(subscriberId: string) {
    const { rows } = await this.pool.query(`SELECT * FROM ${this.s}.${DELIVERY_HEALTH.name} WHERE subscriber_id = $1`, [
      subscriberId,
    ]);
    return rows.length === 0 ? NO_DELIVERY_YET : deliveryHealthOf(fromPg(DELIVERY_HEALTH, rows[0]));
  }

  async replayDeadLetters(subscriberId: string) {
    await this.pool.query(`UPDATE ${this.s}.${DEAD_LETTERS.name} SET replay = 1 WHERE subscriber_id = $1`, [
      subscriberId,
    ]);
  }

  async settleDeadLetter(letter: DeadLetter, delivered: boolean) {
    if (!delivered) await this.upsertOne(this.pool, DEAD_LETTERS, deadLetterRow({ ...letter, replay: false }));
    else {
      await this.pool.query(`DELETE FROM ${this.s}.${DEAD_LETTERS.name} WHERE subscriber_id = $1 AND event_id = $2`, [
        letter.subscriberId,
        letter.eventId,
      ]);
    }
  }

  /** One row of a delivery table (the schema's own, see deliveryCheckpoint). */
  private async upsertOne(client: Pick<pg.PoolClient, 'query'>, table: Table, row: Record<string, unknown>) {
    const columns = columnsOf(table);
    await client.query(
      `INSERT INTO ${this.s}.${table.name} (${columns.join(', ')})
       VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')}) ${onConflictReplace(table)}`,
      columns.map((column) => row[column]),
    );
  }

  async deadLetters(subscriberId: string) {
    const { rows } = await this.pool.query(
      `SELECT * FROM ${this.s}.${DEAD_LETTERS.name} WHERE subscriber_id = $1 ORDER BY position, event_id`,
      [subscriberId],
    );
    return rows.map((row: Record<string, unknown>) => deadLetterOf(fromPg(DEAD_LETTERS, row)));
  }

  async close() {}
}
