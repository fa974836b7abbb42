import Database from 'better-sqlite3';
import {
  createIndexesSql,
  createTableSql,
  READ_MODEL_TABLES,
  READ_MODEL_VERSION,
  type Column,
  type ColumnType,
} from './tables.js';
import { DELIVERY_TABLES } from './delivery-tables.js';

/**
 * state.db: the read models and their checkpoints (tables.ts). Read models are disposable
 * (rebuilt from the log), so commits are not fsynced one by one (synchronous=NORMAL in WAL never
 * corrupts; a power cut may lose the last batches, and their checkpoint with them, which the
 * runner then redoes).
 */

/** A connection to state.db (WAL: a reading connection never sees another's open transaction). */
export function connectStateDb(path: string): Database.Database {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 10000');
  db.pragma('cache_size = -16384');
  return db;
}

const SQLITE_TYPES: Record<ColumnType, string> = { text: 'TEXT', integer: 'INTEGER', real: 'REAL', flag: 'INTEGER' };
const sqliteDialect = {
  qualified: (name: string) => name,
  type: (column: Column) => SQLITE_TYPES[column.type],
  suffix: ' WITHOUT ROWID',
};

/** The query indexes, created when missing (after a reset, by the next commit: one sort each). */
export const CREATE_QUERY_INDEXES = createIndexesSql(sqliteDialect.qualified);

/** The prefix of a rebuild's new tables (`rebuild_contacts`, ...), swapped in whole when it ends. */
export const SHADOW_PREFIX = 'rebuild_';

/** A rebuild's new tables, without their query indexes (built in one sort each at the swap). */
export const createShadowTablesSql = (): string =>
  READ_MODEL_TABLES.map((table) =>
    createTableSql(table, { ...sqliteDialect, qualified: (name) => `main.${SHADOW_PREFIX}${name}` }),
  ).join('\n');

/** Connects to state.db, creating (or, at another version, recreating) its tables. */
export function openStateDb(path: string): Database.Database {
  const db = connectStateDb(path);
  if (db.pragma('user_version', { simple: true }) !== READ_MODEL_VERSION) {
    db.exec(READ_MODEL_TABLES.map((table) => `DROP TABLE IF EXISTS ${table.name};`).join('\n'));
    db.pragma(`user_version = ${READ_MODEL_VERSION}`);
  }
  db.exec(READ_MODEL_TABLES.map((table) => createTableSql(table, sqliteDialect)).join('\n'));
  // Beside the read models, kept at any version (see delivery-tables.ts).
  db.exec(DELIVERY_TABLES.map((table) => createTableSql(table, sqliteDialect)).join('\n'));
  db.exec(CREATE_QUERY_INDEXES);
  return db;
}

/**
 * Empties every read model and checkpoint, for a rebuild from the log. The query indexes are
 * dropped: the rebuild's first window inserts into bare tables, then each index is built in one
 * sort instead of one random B-tree insertion per row.
 */
export function resetStateDb(db: Database.Database): void {
  db.exec(
    READ_MODEL_TABLES.flatMap((table) => [
      `DELETE FROM ${table.name};`,
      ...Object.keys(table.indexes).map((name) => `DROP INDEX IF EXISTS ${name};`),
    ]).join('\n'),
  );
}
