import type Database from 'better-sqlite3';
import { connectStateDb, CREATE_QUERY_INDEXES, resetStateDb } from './state-db.js';
import { CHECKPOINTS, columnsOf, onConflictReplace, READ_MODEL_TABLES, type Table } from './tables.js';

/** One write of a commit, as posted to the state.db writer thread: tables named, rows plain. */
export type StateDbWrite =
  | { upsert: string; rows: Array<Record<string, unknown>> }
  | { delete: string; column: string; values: readonly string[] };

/** A call to the state.db writer thread. */
export type StateDbWriterCall =
  { commit: { projection: string; checkpoint: number; writes: StateDbWrite[] } } | 'reset';

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

  constructor(path: string) {
    this.db = connectStateDb(path);
    // Created outside any transaction: a rollback would otherwise take a staging table with it.
    for (const table of READ_MODEL_TABLES) {
      this.db.exec(
        `CREATE TEMP TABLE IF NOT EXISTS ${stagedTable(table)} AS SELECT * FROM main.${table.name} WHERE false`,
      );
    }
  }

  /** Applies a commit's writes and moves its checkpoint, in one transaction. */
  commit(projection: string, checkpoint: number, writes: readonly StateDbWrite[]): void {
    this.db.exec('BEGIN IMMEDIATE');
    try {
      for (const write of writes) {
        if ('upsert' in write) this.upsert(tableNamed(write.upsert), write.rows);
        else this.delete(tableNamed(write.delete), write.column, write.values);
      }
      this.upsert(CHECKPOINTS, [{ projection, position: checkpoint }]);
      this.db.exec(CREATE_QUERY_INDEXES);
      this.db.exec('COMMIT');
    } catch (error) {
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
      throw error;
    }
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

  /**
   * Rows are staged as they come in a temp table of this connection, then upserted in key order
   * by SQLite: its sort beats sorting the keys here, and the B-tree is still filled in order.
   * Temp tables are this connection's own and roll back with the transaction.
   */
  private upsert(table: Table, rows: ReadonlyArray<Record<string, unknown>>): void {
    if (rows.length === 0) return;
    const staged = stagedTable(table);
    const columns = columnsOf(table).join(', ');
    const stage = this.statement(
      `INSERT INTO ${staged} VALUES (${columnsOf(table)
        .map((column) => `@${column}`)
        .join(', ')})`,
    );
    for (const row of rows) stage.run(row);
    this.statement(
      `INSERT INTO main.${table.name} (${columns}) SELECT ${columns} FROM ${staged} WHERE true
        ORDER BY ${table.key.join(', ')} ${onConflictReplace(table)}`,
    ).run();
    this.statement(`DELETE FROM ${staged}`).run();
  }

  private delete(table: Table, column: string, values: readonly string[]): void {
    if (!columnsOf(table).includes(column)) throw new Error(`${table.name} has no column ${column}`);
    const remove = this.statement(`DELETE FROM main.${table.name} WHERE ${column} = ?`);
    for (const value of values) remove.run(value);
  }
}

function tableNamed(name: string): Table {
  const table = TABLES.get(name);
  if (!table) throw new Error(`no read-model table ${name}`);
  return table;
}
