import { targetingSql, type TargetQuery, type TargetTally } from './targeting-sql.js';
import type Database from 'better-sqlite3';
import {
  INACTIVITY_COLUMNS,
  type ExpiringRow,
  type InactivityRow,
  type ReadModelStore,
  type ReadModelWrites,
} from './read-model-store.js';
import { connectStateDb, CREATE_QUERY_INDEXES, openStateDb, resetStateDb } from './state-db.js';
import {
  CHECKPOINTS,
  columnsOf,
  CONTACTS,
  LISTED_CONTACT,
  onConflictReplace,
  READ_MODEL_TABLES,
  type Row,
  type Table,
} from './tables.js';

const stagedTable = (table: Table) => `staged_${table.name}`;

/**
 * The read models in state.db (see openStateDb), over two connections: one reads, one writes. A
 * commit's transaction may stay open while it awaits (the e-mail hashes of a bulk window), and
 * WAL keeps it from the reading connection meanwhile (API requests, the runner's row loads).
 */
export class SqliteReadModelStore implements ReadModelStore {
  private readonly db: Database.Database;
  private readonly writer: Database.Database;
  private readonly statements;
  /**
   * Prepared statements by connection, then SQL text: each table's reads and writes are prepared
   * once, and a statement is never run on the other connection than the one it was prepared on.
   */
  private readonly prepared = new Map<Database.Database, Map<string, Database.Statement>>();
  /** Commits and resets, one at a time: a commit's transaction spans an await. */
  private writes: Promise<unknown> = Promise.resolve();

  constructor(path: string) {
    this.db = openStateDb(path);
    this.writer = connectStateDb(path);
    const { db, writer } = this;
    // Created outside any transaction: a rollback would otherwise take a staging table with it.
    for (const table of READ_MODEL_TABLES) {
      writer.exec(
        `CREATE TEMP TABLE IF NOT EXISTS ${stagedTable(table)} AS SELECT * FROM main.${table.name} WHERE false`,
      );
    }
    this.statements = {
      byEmail: db
        .prepare<[string], string>('SELECT contact_id FROM email_index WHERE email_hash = ? ORDER BY contact_id')
        .pluck(),
      // A row-value comparison: the planner walks the recency index in order (an OR of the two
      // halves made it sort every older row for each page once the rows were not covered).
      recencyPage: db.prepare<[string, string, string, number], Row<typeof CONTACTS>>(
        `SELECT * FROM contacts
         WHERE recency_at < ? AND (recency_at, contact_id) > (?, ?) AND ${LISTED_CONTACT}
         ORDER BY recency_at, contact_id LIMIT ?`,
      ),
      purgeablePage: db.prepare<[string, string, number], { order_id: string; contact_id: string }>(
        `SELECT order_id, contact_id FROM orders
         WHERE order_id > ? AND purged = 0 AND latest_valid_until < ? ORDER BY order_id LIMIT ?`,
      ),
      expiringPage: db.prepare<[string, string, string, string, number], ExpiringRow>(
        `SELECT contact_id, last_activity_at FROM consents
         WHERE purpose = ? AND status = 'yes' AND last_activity_at < ? AND (last_activity_at, contact_id) > (?, ?)
         ORDER BY last_activity_at, contact_id LIMIT ?`,
      ),
      inactivityPage: db.prepare<[string, string, number], InactivityRow>(
        `SELECT ${INACTIVITY_COLUMNS.join(', ')} FROM contacts
         WHERE contact_id > ? AND recency_at < ? AND ${LISTED_CONTACT} ORDER BY contact_id LIMIT ?`,
      ),
    };
  }

  private statement(db: Database.Database, sql: string): Database.Statement {
    let ofConnection = this.prepared.get(db);
    if (!ofConnection) this.prepared.set(db, (ofConnection = new Map()));
    let statement = ofConnection.get(sql);
    if (!statement) ofConnection.set(sql, (statement = db.prepare(sql)));
    return statement;
  }

  /** Runs a write after the ones before it (whatever became of them). */
  private inTurn<T>(write: () => Promise<T>): Promise<T> {
    const turn = this.writes.then(write, write);
    this.writes = turn.catch(() => {});
    return turn;
  }

  /**
   * Rows are staged as they come in a temp table of the writing connection, then upserted in key
   * order by SQLite: its sort beats sorting the keys here, and the B-tree is still filled in
   * order. Temp tables are this connection's own and roll back with the transaction.
   */
  private upsert(table: Table, rows: Iterable<Record<string, unknown>>): void {
    const staged = stagedTable(table);
    const columns = columnsOf(table).join(', ');
    const stage = this.statement(
      this.writer,
      `INSERT INTO ${staged} VALUES (${columnsOf(table)
        .map((column) => `@${column}`)
        .join(', ')})`,
    );
    let count = 0;
    for (const row of rows) {
      stage.run(row);
      count++;
    }
    if (count === 0) return;
    this.statement(
      this.writer,
      `INSERT INTO main.${table.name} (${columns}) SELECT ${columns} FROM ${staged} WHERE true
        ORDER BY ${table.key.join(', ')} ${onConflictReplace(table)}`,
    ).run();
    this.statement(this.writer, `DELETE FROM ${staged}`).run();
  }

  private readonly writesOfCommit: ReadModelWrites = {
    upsert: async (table, rows) => this.upsert(table, rows),
    delete: async (table, column, values) => {
      const remove = this.statement(this.writer, `DELETE FROM main.${table.name} WHERE ${column} = ?`);
      for (const value of values) remove.run(value);
    },
  };

  async rowsAfter<T extends Table>(table: T, after: readonly unknown[] | null, limit: number) {
    const key = table.key.join(', ');
    const where = after ? `WHERE (${key}) > (${table.key.map(() => '?').join(', ')})` : '';
    const sql = `SELECT * FROM ${table.name} ${where} ORDER BY ${key} LIMIT ?`;
    return this.statement(this.db, sql).all(...(after ?? []), limit) as Row<T>[];
  }

  async allRows<T extends Table>(table: T) {
    return this.statement(this.db, `SELECT * FROM ${table.name}`).all() as Row<T>[];
  }

  async rows<T extends Table>(table: T, column: keyof T['columns'] & string, values: readonly string[]) {
    const select = this.statement(this.db, `SELECT * FROM ${table.name} WHERE ${column} = ?`);
    return values.flatMap((value) => select.all(value) as Row<T>[]);
  }

  async checkpoint(projection: string) {
    const [row] = await this.rows(CHECKPOINTS, 'projection', [projection]);
    return row?.position ?? 0;
  }

  commit(projection: string, checkpoint: number, write: (writes: ReadModelWrites) => Promise<void>): Promise<void> {
    return this.inTurn(async () => {
      this.writer.exec('BEGIN IMMEDIATE');
      try {
        await write(this.writesOfCommit);
        this.upsert(CHECKPOINTS, [{ projection, position: checkpoint }]);
        this.writer.exec(CREATE_QUERY_INDEXES);
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
    return this.statements.recencyPage.all(before, recency, contactId, limit);
  }

  async inactivityPage(before: string, afterContactId: string, limit: number) {
    return this.statements.inactivityPage.all(afterContactId, before, limit);
  }

  async purgeablePage(before: string, afterOrderId: string, limit: number) {
    return this.statements.purgeablePage.all(afterOrderId, before, limit);
  }

  async expiringPage(
    purpose: string,
    before: string,
    after: { lastActivityAt: string; contactId: string } | null,
    limit: number,
  ) {
    const { lastActivityAt, contactId } = after ?? { lastActivityAt: '', contactId: '' };
    return this.statements.expiringPage.all(purpose, before, lastActivityAt, contactId, limit);
  }

  async targetingTally(query: TargetQuery) {
    const values: Record<string, unknown> = {};
    const param = (value: unknown) => {
      const name = `p${Object.keys(values).length}`;
      values[name] = value;
      return `@${name}`;
    };
    const sql = targetingSql(query, {
      qualified: (table) => table,
      param,
      inIds: (ids) => `IN (SELECT value FROM json_each(${param(JSON.stringify(ids))}))`,
      fence: ' LIMIT -1',
    });
    return this.statement(this.db, sql).get(values) as TargetTally;
  }

  async close() {
    await this.writes;
    this.writer.close();
    this.db.close();
  }
}
