import type Database from 'better-sqlite3';
import {
  connectStateDb,
  CREATE_QUERY_INDEXES,
  createShadowTablesSql,
  resetStateDb,
  SHADOW_PREFIX,
} from './state-db.js';
import {
  DEAD_LETTERS,
  DELIVERY_CHECKPOINTS,
  DELIVERY_HEALTH,
  deadLetterRow,
  deliveryHealthRow,
  type DeadLetter,
  type DeliveryHealth,
} from './delivery-tables.js';
import { CHECKPOINTS, columnsOf, onConflictReplace, READ_MODEL_TABLES, type Table } from './tables.js';

/**
 * Which tables a call writes: the read models readers see, or the new ones a rebuild builds
 * beside them (`rebuild_<name>`, see createShadowTablesSql), swapped in whole when it ends.
 */
export type StateDbTarget = 'live' | 'shadow';

/** Rows to upsert, as posted to the state.db writer thread: the table named, rows plain. */
export type StagedRows = { table: string; rows: Array<Record<string, unknown>> };

/** A delete of a commit: the rows of `table` whose `column` holds one of `values`. */
export type StateDbDelete = { table: string; column: string; values: readonly string[] };

/**
 * A call to the state.db writer thread. A commit's rows come first, in chunks (`stage`), so that
 * no message holds a whole window (a rebuild's is 400,000 rows); `commit` then writes them, its
 * deletes and the checkpoint in one transaction; `discard` drops what was staged. A rebuild
 * commits into new tables (`beginRebuild`), which no reader sees, and `swapIn` replaces the read
 * models by them in one transaction (`dropRebuild`: a rebuild given up).
 */
export type StateDbWriterCall =
  | { stage: StagedRows }
  | { commit: { projection: string; checkpoint: number; deletes: StateDbDelete[]; target: StateDbTarget } }
  | { delivery: DeliveryAdvance }
  | { replayDeadLetters: string }
  | { settleDeadLetter: { letter: DeadLetter; delivered: boolean } }
  | 'discard'
  | 'reset'
  | 'beginRebuild'
  | 'swapIn'
  | 'dropRebuild';

/** A subscriber's checkpoint moved, with the dead letters before it (ReadModelStore.advanceDelivery). */
export type DeliveryAdvance = {
  subscriberId: string;
  name: string;
  position: number;
  deadLetters: readonly DeadLetter[];
  health?: DeliveryHealth;
};

const stagedTable = (table: Table) => `staged_${table.name}`;
const TABLES = new Map(READ_MODEL_TABLES.map((table) => [table.name, table]));

/**
 * The writing connection of state.db, run on a thread of its own (state-db-writer-worker.ts): a
 * commit's writes, its B-tree updates and its WAL pages (more than folding the events costs)
 * never hold up the thread that serves requests.
 */
export class StateDbWriter {
  private readonly db: Database.Database;
  private readonly prepared = new Map<string, Database.Statement>();
  /** The tables with rows staged for the coming commit. */
  private readonly staged = new Set<Table>();

  constructor(path: string) {
    this.db = connectStateDb(path);
    // Created outside any transaction: a rollback would otherwise take a staging table with it.
    // Temp tables are this connection's own.
    for (const table of READ_MODEL_TABLES) {
      this.db.exec(
        `CREATE TEMP TABLE IF NOT EXISTS ${stagedTable(table)} AS SELECT * FROM main.${table.name} WHERE false`,
      );
    }
  }

  /** Rows of the coming commit, staged in this connection's temp table (nothing of state.db is locked yet). */
  stage({ table, rows }: StagedRows): void {
    if (rows.length === 0) return;
    const named = tableNamed(table);
    const columns = columnsOf(named);
    const insert = this.statement(
      `INSERT INTO ${stagedTable(named)} VALUES (${columns.map((column) => `@${column}`).join(', ')})`,
    );
    this.db.transaction(() => {
      for (const row of rows) insert.run(row);
    })();
    this.staged.add(named);
  }

  /**
   * Writes the staged rows (each table's in key order: SQLite's sort beats sorting them here, and
   * the B-tree is still filled in order: a rebuild's 1M events took 36 s with its rows inserted as
   * they came, 21 s sorted), then the deletes, and moves the checkpoint, in one transaction, into
   * the read models or a rebuild's tables (whose query indexes wait for the swap). Staged rows are
   * gone afterwards, whether it committed or not.
   */
  commit(projection: string, checkpoint: number, deletes: readonly StateDbDelete[], target: StateDbTarget): void {
    const prefix = target === 'shadow' ? SHADOW_PREFIX : '';
    try {
      this.db.exec('BEGIN IMMEDIATE');
      for (const table of this.staged) {
        const columns = columnsOf(table).join(', ');
        this.statement(
          `INSERT INTO main.${prefix}${table.name} (${columns}) SELECT ${columns} FROM ${stagedTable(table)} WHERE true
            ORDER BY ${table.key.join(', ')} ${onConflictReplace(table)}`,
        ).run();
      }
      for (const { table, column, values } of deletes) this.delete(tableNamed(table), column, values, prefix);
      this.statement(
        `INSERT INTO main.${prefix}${CHECKPOINTS.name} (projection, position) VALUES (?, ?)
        ${onConflictReplace(CHECKPOINTS)}`,
      ).run(projection, checkpoint);
      if (target === 'live') this.db.exec(CREATE_QUERY_INDEXES);
      this.db.exec('COMMIT');
    } catch (error) {
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
      throw error;
    } finally {
      this.discard();
    }
  }

  /** One transaction: the dead letters, then the checkpoint past them, and how the delivery goes. */
  advanceDelivery({ subscriberId, name, position, deadLetters, health }: DeliveryAdvance): void {
    this.db.transaction(() => {
      for (const letter of deadLetters) this.upsert(DEAD_LETTERS).run(deadLetterRow(letter));
      this.upsert(DELIVERY_CHECKPOINTS).run({ subscriber_id: subscriberId, name, position });
      if (health) this.upsert(DELIVERY_HEALTH).run(deliveryHealthRow(subscriberId, health));
    })();
  }

  replayDeadLetters(subscriberId: string): void {
    this.statement(`UPDATE main.${DEAD_LETTERS.name} SET replay = 1 WHERE subscriber_id = ?`).run(subscriberId);
  }

  settleDeadLetter({ letter, delivered }: { letter: DeadLetter; delivered: boolean }): void {
    if (!delivered) this.upsert(DEAD_LETTERS).run(deadLetterRow({ ...letter, replay: false }));
    else {
      this.statement(`DELETE FROM main.${DEAD_LETTERS.name} WHERE subscriber_id = ? AND event_id = ?`).run(
        letter.subscriberId,
        letter.eventId,
      );
    }
  }

  private upsert(table: Table): Database.Statement {
    return this.statement(
      `INSERT INTO main.${table.name} (${columnsOf(table).join(', ')})
       VALUES (${columnsOf(table)
         .map((column) => `@${column}`)
         .join(', ')}) ${onConflictReplace(table)}`,
    );
  }

  /** New, empty tables for a rebuild, beside the read models (those of a rebuild given up are dropped first). */
  beginRebuild(): void {
    this.dropRebuild();
    this.db.exec(createShadowTablesSql());
  }

  /**
   * The rebuilt tables replace the read models, checkpoint included, in one transaction; the
   * query indexes are built on them within it (one sort each). Readers see the old read models
   * until it commits (WAL), then the new ones: never a read model half-built or empty.
   */
  swapIn(): void {
    this.db.transaction(() => {
      for (const table of READ_MODEL_TABLES) {
        this.db.exec(`DROP TABLE IF EXISTS main.${table.name}`);
        this.db.exec(`ALTER TABLE main.${SHADOW_PREFIX}${table.name} RENAME TO ${table.name}`);
      }
      this.db.exec(CREATE_QUERY_INDEXES);
    })();
    // Statements prepared on the tables dropped or renamed are prepared again when next used.
    this.prepared.clear();
  }

  /** Drops the tables of a rebuild given up (stopped or failed): the read models stay as they were. */
  dropRebuild(): void {
    this.db.exec(
      READ_MODEL_TABLES.map((table) => `DROP TABLE IF EXISTS main.${SHADOW_PREFIX}${table.name};`).join('\n'),
    );
    this.prepared.clear();
  }

  /** Drops the staged rows (a commit whose writing failed half-way). */
  discard(): void {
    for (const table of this.staged) this.statement(`DELETE FROM ${stagedTable(table)}`).run();
    this.staged.clear();
  }

  reset(): void {
    resetStateDb(this.db);
  }

  close(): void {
    this.db.close();
  }

  private statement(sql: string): Database.Statement {
    let statement = this.prepared.get(sql);
    if (!statement) this.prepared.set(sql, (statement = this.db.prepare(sql)));
    return statement;
  }

  private delete(table: Table, column: string, values: readonly string[], prefix = ''): void {
    if (!columnsOf(table).includes(column)) throw new Error(`${table.name} has no column ${column}`);
    const remove = this.statement(`DELETE FROM main.${prefix}${table.name} WHERE ${column} = ?`);
    for (const value of values) remove.run(value);
  }
}

function tableNamed(name: string): Table {
  const table = TABLES.get(name);
  if (!table) throw new Error(`no read-model table ${name}`);
  return table;
}
