import { targetingSql, type TargetQuery, type TargetTally } from './targeting-sql.js';
import type Database from 'better-sqlite3';
import {
  INACTIVITY_COLUMNS,
  type ExpiringRow,
  type InactivityRow,
  type ReadModelStore,
  type ReadModelWrites,
} from './read-model-store.js';
import { openStateDb } from './state-db.js';
import type { StateDbDelete, StateDbWriterCall } from './state-db-writer.js';
import { CallThread, startWorker } from '../worker-thread.js';
import { CHECKPOINTS, CONTACTS, LISTED_CONTACT, type Row, type Table } from './tables.js';

/** Rows a message to the writer thread holds at most: bounds what a large window's commit copies at once. */
const STAGED_CHUNK = 5000;

/**
 * The read models in state.db (see openStateDb): this thread reads, a thread of its own writes
 * (StateDbWriter). A commit's rows are staged there as they come, awaits included (the e-mail
 * hashes of a bulk window), then written in one transaction; WAL keeps a commit from the reads
 * until it is whole (API requests, the runner's row loads).
 */
export class SqliteReadModelStore implements ReadModelStore {
  private readonly db: Database.Database;
  private readonly writer: CallThread<StateDbWriterCall, void>;
  private readonly statements;
  /** Prepared statements by SQL text: each table's reads are prepared once. */
  private readonly prepared = new Map<string, Database.Statement>();
  /** Commits and resets, one at a time, in order. */
  private writes: Promise<unknown> = Promise.resolve();

  constructor(path: string) {
    this.db = openStateDb(path);
    const { db } = this;
    this.writer = new CallThread(
      () => startWorker(import.meta.url, './state-db-writer-worker', { path }),
      'the state.db writer thread',
    );
    this.statements = {
      byEmail: db
        .prepare<[string], string>('SELECT contact_id FROM email_index WHERE email_hash = ? ORDER BY contact_id')
        .pluck(),
      // A row-value comparison: the planner walks the recency index in order (an OR of the two
      // halves made it sort every older row for each page once the rows were not covered). The
      // roles are checked on the row the walk reads anyway (LISTED_CONTACT), with no index of
      // their own: the default roles, individuals and relays, are most contacts, so a page reads
      // little more than its rows; a rare role reads on until its page is full (every older row
      // when it has none), not worth one more index written at every contact change.
      recencyPage: db.prepare<[string, string, string, string, number], Row<typeof CONTACTS>>(
        `SELECT * FROM contacts
         WHERE recency_at < ? AND (recency_at, contact_id) > (?, ?) AND ${LISTED_CONTACT}
           AND role IN (SELECT value FROM json_each(?))
         ORDER BY recency_at, contact_id LIMIT ?`,
      ),
      purgeablePage: db.prepare<[string, string, number], { order_id: string; contact_id: string }>(
        `SELECT order_id, contact_id FROM orders
         WHERE order_id > ? AND purged = 0 AND earliest_end < ? ORDER BY order_id LIMIT ?`,
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

  private statement(sql: string): Database.Statement {
    let statement = this.prepared.get(sql);
    if (!statement) this.prepared.set(sql, (statement = this.db.prepare(sql)));
    return statement;
  }

  /** Runs a write after the ones before it (whatever became of them). */
  private inTurn<T>(write: () => Promise<T>): Promise<T> {
    const turn = this.writes.then(write, write);
    this.writes = turn.catch(() => {});
    return turn;
  }

  async rowsAfter<T extends Table>(table: T, after: readonly unknown[] | null, limit: number) {
    const key = table.key.join(', ');
    const where = after ? `WHERE (${key}) > (${table.key.map(() => '?').join(', ')})` : '';
    const sql = `SELECT * FROM ${table.name} ${where} ORDER BY ${key} LIMIT ?`;
    return this.statement(sql).all(...(after ?? []), limit) as Row<T>[];
  }

  async allRows<T extends Table>(table: T) {
    return this.statement(`SELECT * FROM ${table.name}`).all() as Row<T>[];
  }

  async rows<T extends Table>(table: T, column: keyof T['columns'] & string, values: readonly string[]) {
    const select = this.statement(`SELECT * FROM ${table.name} WHERE ${column} = ?`);
    return values.flatMap((value) => select.all(value) as Row<T>[]);
  }

  async checkpoint(projection: string) {
    const [row] = await this.rows(CHECKPOINTS, 'projection', [projection]);
    return row?.position ?? 0;
  }

  /**
   * Posts the rows to the writer thread in chunks as they come (it stages them), then the commit:
   * neither thread ever holds a whole window twice. Writing that fails half-way discards what
   * was staged.
   */
  commit(projection: string, checkpoint: number, write: (writes: ReadModelWrites) => Promise<void>): Promise<void> {
    return this.inTurn(async () => {
      const deletes: StateDbDelete[] = [];
      try {
        await write({
          upsert: async (table, rows) => {
            let chunk: Array<Record<string, unknown>> = [];
            for (const row of rows) {
              chunk.push(row);
              if (chunk.length === STAGED_CHUNK) {
                await this.writer.call({ stage: { table: table.name, rows: chunk } });
                chunk = [];
              }
            }
            if (chunk.length > 0) await this.writer.call({ stage: { table: table.name, rows: chunk } });
          },
          delete: async (table, column, values) => void deletes.push({ table: table.name, column, values }),
        });
      } catch (error) {
        await this.writer.call('discard');
        throw error;
      }
      await this.writer.call({ commit: { projection, checkpoint, deletes } });
    });
  }

  reset(): Promise<void> {
    return this.inTurn(() => this.writer.call('reset'));
  }

  async contactsByEmailHash(hash: string) {
    return this.statements.byEmail.all(hash);
  }

  async recencyPage(
    before: string,
    roles: readonly string[],
    after: { recency: string; contactId: string } | null,
    limit: number,
  ) {
    const { recency, contactId } = after ?? { recency: '', contactId: '' };
    return this.statements.recencyPage.all(before, recency, contactId, JSON.stringify(roles), limit);
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
    return this.statement(sql).get(values) as TargetTally;
  }

  async close() {
    await this.writes;
    await this.writer.close();
    this.db.close();
  }
}
