import { targetingSql, type TargetQuery, type TargetTally } from './targeting-sql.js';
import type Database from 'better-sqlite3';
import {
  INACTIVITY_COLUMNS,
  type ExpiringRow,
  type InactivityValues,
  type ReadModelStore,
  type ReadModelWrites,
  type RebuildTarget,
} from './read-model-store.js';
import { openStateDb, SHADOW_PREFIX } from './state-db.js';
import {
  DEAD_LETTERS,
  DELIVERY_CHECKPOINTS,
  DELIVERY_HEALTH,
  NO_DELIVERY_YET,
  deadLetterOf,
  deliveryHealthOf,
  type DeadLetter,
  type DeliveryHealth,
} from './delivery-tables.js';
import type { StateDbDelete, StateDbTarget, StateDbWriterCall } from './state-db-writer.js';
import { CallThread, startWorker } from '../worker-thread.js';
import { CHECKPOINTS, CONTACTS, LISTED_CONTACT, type Row, type Table } from './tables.js';

/** Rows a message to the writer thread holds at most: bounds what a large window's commit copies at once. */
const STAGED_CHUNK = 5000;

/** What the read models in state.db and a rebuild's new tables beside them share: one connection, one writer. */
interface StateDbConnections {
  db: Database.Database;
  writer: CallThread<StateDbWriterCall, void>;
  /** Commits, resets and swaps, one at a time, in order. */
  writes: Promise<unknown>;
}

/**
 * The read models in state.db (see openStateDb): this thread reads, a thread of its own writes
 * (StateDbWriter). A commit's rows are staged there as they come, awaits included (the e-mail
 * hashes of a bulk window), then written in one transaction; WAL keeps a commit from the reads
 * until it is whole (API requests, the runner's row loads). A rebuild writes new tables beside
 * them (rebuildTarget), swapped in whole at its end.
 */
export class SqliteReadModelStore implements ReadModelStore {
  private readonly db: Database.Database;
  private readonly writer: CallThread<StateDbWriterCall, void>;
  private readonly shared: StateDbConnections;
  /** Prepared statements by SQL text: each table's reads are prepared once. */
  private readonly prepared = new Map<string, Database.Statement>();
  /** The tables' names: the read models', or a rebuild's new tables (`rebuild_<name>`). */
  private readonly prefix: string;
  private readonly target: StateDbTarget;
  /** The queries' statements, prepared when first used (see statements). */
  private queries: ReturnType<SqliteReadModelStore['prepareQueries']> | null = null;

  constructor(path: string, shadowOf?: StateDbConnections) {
    this.target = shadowOf ? 'shadow' : 'live';
    this.prefix = shadowOf ? SHADOW_PREFIX : '';
    this.shared = shadowOf ?? {
      db: openStateDb(path),
      writer: new CallThread(
        () => startWorker(import.meta.url, './state-db-writer-worker', { path }),
        'the state.db writer thread',
      ),
      writes: Promise.resolve(),
    };
    this.db = this.shared.db;
    this.writer = this.shared.writer;
  }

  /** The name of a table of this store (a rebuild's new tables have theirs). */
  private name(table: string): string {
    return `${this.prefix}${table}`;
  }

  /** Prepared when first used: a rebuild's tables exist only once it has begun. */
  private get statements() {
    return (this.queries ??= this.prepareQueries());
  }

  private prepareQueries() {
    const contacts = this.name('contacts');
    return {
      // Its own statement (pluck changes how it returns rows), not the shared one of the same text.
      byEmail: this.db
        .prepare<[string], string>(
          `SELECT contact_id FROM ${this.name('email_index')} WHERE email_hash = ? ORDER BY contact_id`,
        )
        .pluck(),
      // A row-value comparison: the planner walks the recency index in order (an OR of the two
      // halves made it sort every older row for each page once the rows were not covered). The
      // roles are checked on the row the walk reads anyway (LISTED_CONTACT), with no index of
      // their own: the default roles, individuals and relays, are most contacts, so a page reads
      // little more than its rows; a rare role reads on until its page is full (every older row
      // when it has none), not worth one more index written at every contact change.
      recencyPage: this.statement(
        `SELECT * FROM ${contacts}
         WHERE recency_at < ? AND (recency_at, contact_id) > (?, ?) AND ${LISTED_CONTACT}
           AND role IN (SELECT value FROM json_each(?))
         ORDER BY recency_at, contact_id LIMIT ?`,
      ) as Database.Statement<[string, string, string, string, number], Row<typeof CONTACTS>>,
      purgeablePage: this.statement(
        `SELECT order_id, contact_id FROM ${this.name('orders')}
         WHERE order_id > ? AND purged = 0 AND earliest_end < ? ORDER BY order_id LIMIT ?`,
      ) as Database.Statement<[string, string, number], { order_id: string; contact_id: string }>,
      expiringPage: this.statement(
        `SELECT contact_id, last_activity_at FROM ${this.name('consents')}
         WHERE purpose = ? AND status = 'yes' AND last_activity_at < ? AND (last_activity_at, contact_id) > (?, ?)
         ORDER BY last_activity_at, contact_id LIMIT ?`,
      ) as Database.Statement<[string, string, string, string, number], ExpiringRow>,
      // Its own statement too (raw: each row as its values).
      inactivityPage: this.db
        .prepare<[string, string, number], InactivityValues>(
          `SELECT ${INACTIVITY_COLUMNS.join(', ')} FROM ${contacts}
           WHERE contact_id > ? AND recency_at < ? AND ${LISTED_CONTACT} ORDER BY contact_id LIMIT ?`,
        )
        .raw(true),
    };
  }

  private statement(sql: string): Database.Statement {
    let statement = this.prepared.get(sql);
    if (!statement) this.prepared.set(sql, (statement = this.db.prepare(sql)));
    return statement;
  }

  /** Runs a write after the ones before it (whatever became of them), a rebuild's included. */
  private inTurn<T>(write: () => Promise<T>): Promise<T> {
    const turn = this.shared.writes.then(write, write);
    this.shared.writes = turn.catch(() => {});
    return turn;
  }

  async rowsAfter<T extends Table>(table: T, after: readonly unknown[] | null, limit: number) {
    const key = table.key.join(', ');
    const where = after ? `WHERE (${key}) > (${table.key.map(() => '?').join(', ')})` : '';
    const sql = `SELECT * FROM ${this.name(table.name)} ${where} ORDER BY ${key} LIMIT ?`;
    return this.statement(sql).all(...(after ?? []), limit) as Row<T>[];
  }

  async allRows<T extends Table>(table: T) {
    return this.statement(`SELECT * FROM ${this.name(table.name)}`).all() as Row<T>[];
  }

  async rows<T extends Table>(table: T, column: keyof T['columns'] & string, values: readonly string[]) {
    const select = this.statement(`SELECT * FROM ${this.name(table.name)} WHERE ${column} = ?`);
    return values.flatMap((value) => select.all(value) as Row<T>[]);
  }

  async checkpoint(projection: string) {
    const [row] = await this.rows(CHECKPOINTS, 'projection', [projection]);
    return row?.position ?? 0;
  }

  /**
   * Posts the rows to the writer thread in chunks as they come (it stages them), then the commit:
   * neither thread ever holds a whole window twice. One chunk is staged there while this thread
   * makes the next (their row proofs, their answers): the two threads overlap. Writing that fails
   * half-way discards what was staged.
   */
  commit(projection: string, checkpoint: number, write: (writes: ReadModelWrites) => Promise<void>): Promise<void> {
    return this.inTurn(async () => {
      const deletes: StateDbDelete[] = [];
      let staging: Promise<void> = Promise.resolve();
      const stage = async (table: Table, rows: Array<Record<string, unknown>>) => {
        await staging;
        staging = this.writer.call({ stage: { table: table.name, rows } });
        staging.catch(() => {}); // awaited before the next chunk or the commit
      };
      try {
        await write({
          upsert: async (table, rows) => {
            let chunk: Array<Record<string, unknown>> = [];
            for (const row of rows) {
              chunk.push(row);
              if (chunk.length === STAGED_CHUNK) {
                await stage(table, chunk);
                chunk = [];
              }
            }
            if (chunk.length > 0) await stage(table, chunk);
          },
          delete: async (table, column, values) => void deletes.push({ table: table.name, column, values }),
        });
        await staging;
      } catch (error) {
        await staging.catch(() => {});
        await this.writer.call('discard');
        throw error;
      }
      await this.writer.call({ commit: { projection, checkpoint, deletes, target: this.target } });
    });
  }

  reset(): Promise<void> {
    if (this.target === 'shadow') throw new Error('a rebuild starts from new tables: there is nothing to reset');
    return this.inTurn(() => this.writer.call('reset'));
  }

  /**
   * New tables in state.db beside the read models: a rebuild writes them while readers read the
   * read models as they were, then swaps them in (one transaction, checkpoint included).
   */
  async rebuildTarget(): Promise<RebuildTarget> {
    if (this.target === 'shadow') throw new Error('a rebuild cannot rebuild into its own tables');
    await this.inTurn(() => this.writer.call('beginRebuild'));
    const swap = (call: 'swapIn' | 'dropRebuild') => async () => {
      await this.inTurn(() => this.writer.call(call));
      // This connection's statements on the tables dropped or renamed are prepared again.
      this.prepared.clear();
      this.queries = null;
    };
    return {
      store: new SqliteReadModelStore('', this.shared),
      swapIn: swap('swapIn'),
      discard: swap('dropRebuild'),
    };
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
      qualified: (table) => this.name(table),
      param,
      inIds: (ids) => `IN (SELECT value FROM json_each(${param(JSON.stringify(ids))}))`,
      fence: ' LIMIT -1',
    });
    return this.statement(sql).get(values) as TargetTally;
  }

  async deliveryCheckpoint(subscriberId: string) {
    const row = this.statement(`SELECT position FROM ${DELIVERY_CHECKPOINTS.name} WHERE subscriber_id = ?`).get(
      subscriberId,
    ) as { position: number } | undefined;
    return row?.position ?? 0;
  }

  /** Through the writer thread, in turn with the commits: this thread never waits on state.db's write lock. */
  advanceDelivery(
    subscriberId: string,
    name: string,
    position: number,
    deadLetters: readonly DeadLetter[],
    health?: DeliveryHealth,
  ) {
    const delivery = { subscriberId, name, position, deadLetters, ...(health ? { health } : {}) };
    return this.inTurn(() => this.writer.call({ delivery }));
  }

  async deliveryHealth(subscriberId: string) {
    const row = this.statement(`SELECT * FROM ${DELIVERY_HEALTH.name} WHERE subscriber_id = ?`).get(subscriberId) as
      Row<typeof DELIVERY_HEALTH> | undefined;
    return row ? deliveryHealthOf(row) : NO_DELIVERY_YET;
  }

  replayDeadLetters(subscriberId: string) {
    return this.inTurn(() => this.writer.call({ replayDeadLetters: subscriberId }));
  }

  settleDeadLetter(letter: DeadLetter, delivered: boolean) {
    return this.inTurn(() => this.writer.call({ settleDeadLetter: { letter, delivered } }));
  }

  async deadLetters(subscriberId: string) {
    const rows = this.statement(
      `SELECT * FROM ${DEAD_LETTERS.name} WHERE subscriber_id = ? ORDER BY position, event_id`,
    ).all(subscriberId) as Array<Row<typeof DEAD_LETTERS>>;
    return rows.map(deadLetterOf);
  }

  /** A rebuild's tables close with the read models they were built beside. */
  async close() {
    if (this.target === 'shadow') return;
    await this.shared.writes;
    await this.writer.close();
    this.db.close();
  }
}
