import Database from 'better-sqlite3';

/**
 * state.db: the read models and their checkpoints. Read models are disposable (rebuilt from the
 * log), so commits are not fsynced one by one (synchronous=NORMAL in WAL never corrupts; a power
 * cut may lose the last batches, and their checkpoint with them, which the runner then redoes).
 * Nothing personal is stored here: ids, dates, flags, counts.
 */
/** Bumped with every change to the read-model tables: an older state.db is dropped and rebuilt from the log. */
const SCHEMA_VERSION = 4;

/** A connection to state.db (WAL: a reading connection never sees another's open transaction). */
export function connectStateDb(path: string): Database.Database {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 10000');
  db.pragma('cache_size = -16384');
  return db;
}

/** Connects to state.db, creating (or, at another schema version, recreating) its tables. */
export function openStateDb(path: string): Database.Database {
  const db = connectStateDb(path);
  if (db.pragma('user_version', { simple: true }) !== SCHEMA_VERSION) {
    db.exec(
      'DROP TABLE IF EXISTS checkpoints; DROP TABLE IF EXISTS contacts; DROP TABLE IF EXISTS consents; DROP TABLE IF EXISTS orders; DROP TABLE IF EXISTS email_index;',
    );
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  }
  db.exec(`
    CREATE TABLE IF NOT EXISTS checkpoints (projection TEXT PRIMARY KEY, position INTEGER NOT NULL);
    CREATE TABLE IF NOT EXISTS contacts (
      contact_id TEXT PRIMARY KEY,
      role TEXT,
      registered_at TEXT,
      registered_event TEXT,
      registered_position INTEGER,
      status TEXT NOT NULL DEFAULT 'active',
      customer INTEGER NOT NULL DEFAULT 0,
      balance REAL NOT NULL DEFAULT 0,
      currency TEXT,
      restricted INTEGER NOT NULL DEFAULT 0,
      legal_hold INTEGER NOT NULL DEFAULT 0,
      activity_at TEXT,
      activity_event TEXT,
      activity_position INTEGER,
      recency_at TEXT,
      recency_event TEXT) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS consents (
      contact_id TEXT NOT NULL,
      purpose TEXT NOT NULL,
      status TEXT NOT NULL,
      changed_at TEXT NOT NULL,
      last_prolonging_at TEXT NOT NULL,
      PRIMARY KEY (contact_id, purpose)) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS orders (
      order_id TEXT PRIMARY KEY,
      contact_id TEXT NOT NULL,
      first_position INTEGER NOT NULL,
      latest_valid_until TEXT,
      purged INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS email_index (
      contact_id TEXT PRIMARY KEY,
      email_hash TEXT NOT NULL) WITHOUT ROWID;`);
  db.exec(SECONDARY_INDEXES);
  return db;
}

/**
 * The indexes that only queries need, by name. A reset drops them and the next commit builds them
 * again: the bulk first window of a rebuild inserts into bare tables, then each index is built in
 * one sort instead of one random B-tree insertion per row.
 */
const QUERY_INDEXES = {
  contacts_by_recency: 'contacts (recency_at, contact_id)',
  orders_by_contact: 'orders (contact_id)',
  email_index_by_hash: 'email_index (email_hash, contact_id)',
};
export const SECONDARY_INDEXES = Object.entries(QUERY_INDEXES)
  .map(([name, on]) => `CREATE INDEX IF NOT EXISTS ${name} ON ${on};`)
  .join('\n');

/** Empties every read model and checkpoint, for a rebuild from the log. */
export function resetStateDb(db: Database.Database): void {
  db.exec(`DELETE FROM checkpoints; DELETE FROM contacts; DELETE FROM consents; DELETE FROM orders; DELETE FROM email_index;
    ${Object.keys(QUERY_INDEXES)
      .map((name) => `DROP INDEX IF EXISTS ${name};`)
      .join(' ')}`);
}
