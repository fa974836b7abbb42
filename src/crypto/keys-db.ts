import Database from 'better-sqlite3';
import type { Tombstone, WrappedKey } from './key-repository.js';

/**
 * keys.db: kept apart from events.db so that an event backup carries no key. secure_delete
 * overwrites freed pages with zeros, and a shred truncates the WAL, so destroyed key bytes do not
 * linger in either file. Read on the caller's thread (KeysDbLookUps), written on a thread of its
 * own (sqlite-key-writer-worker.ts).
 */
export function openKeysDb(path: string, pageCacheMb: number): Database.Database {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('secure_delete = ON');
  db.pragma('busy_timeout = 5000');
  db.pragma(`cache_size = ${-1024 * pageCacheMb}`);
  db.exec(`
    CREATE TABLE IF NOT EXISTS keys (
      scope TEXT PRIMARY KEY, key_id TEXT NOT NULL UNIQUE, master_key_id TEXT NOT NULL,
      wrapped BLOB NOT NULL, created_at TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS tombstones (
      scope TEXT PRIMARY KEY, key_id TEXT, shredded_at TEXT NOT NULL, reason TEXT NOT NULL, event_id TEXT);
    CREATE INDEX IF NOT EXISTS tombstones_key_id ON tombstones (key_id);
    CREATE TABLE IF NOT EXISTS master_key (
      singleton INTEGER PRIMARY KEY CHECK (singleton = 1), id TEXT NOT NULL, recorded_at TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS master_key_rotation (
      singleton INTEGER PRIMARY KEY CHECK (singleton = 1), from_id TEXT NOT NULL, to_id TEXT NOT NULL,
      bridge BLOB, started_at TEXT NOT NULL, finished_at TEXT);`);
  return db;
}

/**
 * Copies the WAL back into keys.db and empties it, so that the page images it holds (a key
 * destroyed, a wrapping replaced) are in no file; false when a reader of the WAL (a backup's
 * VACUUM INTO, a long look-up) held it back past busy_timeout.
 */
export function walTruncated(db: Database.Database): boolean {
  const [result] = db.pragma('wal_checkpoint(TRUNCATE)') as Array<{ busy: number }>;
  return result?.busy === 0;
}

/**
 * walTruncated, tried `tries` times (each waits busy_timeout, 5 s): then the caller is told, never
 * left believing the bytes are gone.
 */
export function truncateWal(db: Database.Database, tries = 6): void {
  for (let attempt = 0; attempt < tries; attempt++) if (walTruncated(db)) return;
  throw new Error(
    'keys.db: a reader of its WAL (a backup, a long read) held back the wipe of the replaced key bytes: ' +
      'run the command again once it has ended',
  );
}

interface KeyRow {
  scope: string;
  key_id: string;
  master_key_id: string;
  wrapped: Buffer;
  created_at: string;
}
interface TombstoneRow {
  scope: string;
  key_id: string | null;
  shredded_at: string;
  reason: string;
  event_id: string | null;
}

const toKey = (row: KeyRow): WrappedKey => ({
  scope: row.scope,
  keyId: row.key_id,
  masterKeyId: row.master_key_id,
  wrapped: row.wrapped,
  createdAt: row.created_at,
});
const toTombstone = (row: TombstoneRow): Tombstone => ({
  scope: row.scope,
  keyId: row.key_id,
  shreddedAt: row.shredded_at,
  reason: row.reason,
  eventId: row.event_id,
});

/** A buffer back from a thread: a Buffer crosses as a plain Uint8Array. */
export const asBuffer = (bytes: Uint8Array): Buffer =>
  Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

/** Keys and tombstones of one connection, looked up many at a time (the names as a JSON array). */
export class KeysDbLookUps {
  private readonly statements;

  constructor(db: Database.Database) {
    this.statements = {
      keysByScopes: db.prepare<[string], KeyRow>('SELECT * FROM keys WHERE scope IN (SELECT value FROM json_each(?))'),
      keysByIds: db.prepare<[string], KeyRow>('SELECT * FROM keys WHERE key_id IN (SELECT value FROM json_each(?))'),
      tombstonesByScopes: db.prepare<[string], TombstoneRow>(
        'SELECT * FROM tombstones WHERE scope IN (SELECT value FROM json_each(?))',
      ),
      tombstonesByKeyIds: db.prepare<[string], TombstoneRow>(
        'SELECT * FROM tombstones WHERE key_id IN (SELECT value FROM json_each(?))',
      ),
      // By the key_id index: one pass over the table, however many keys are already re-wrapped.
      wrappedBy: db.prepare<[string, string, number], KeyRow>(
        'SELECT * FROM keys WHERE key_id > ? AND master_key_id = ? ORDER BY key_id LIMIT ?',
      ),
    };
  }

  wrappedBy(masterKeyId: string, afterKeyId: string, limit: number): WrappedKey[] {
    return this.statements.wrappedBy.all(afterKeyId, masterKeyId, limit).map(toKey);
  }

  /** A scope holds a key or a tombstone, never both: tombstones are looked up only for scopes without a key. */
  byScopes(scopes: readonly string[]) {
    const { keysByScopes, tombstonesByScopes } = this.statements;
    return this.keysOrTombstones(scopes, keysByScopes, tombstonesByScopes, (key) => key.scope);
  }

  byKeyIds(keyIds: readonly string[]) {
    const { keysByIds, tombstonesByKeyIds } = this.statements;
    return this.keysOrTombstones(keyIds, keysByIds, tombstonesByKeyIds, (key) => key.keyId);
  }

  private keysOrTombstones(
    names: readonly string[],
    keysStatement: Database.Statement<[string], KeyRow>,
    tombstonesStatement: Database.Statement<[string], TombstoneRow>,
    nameOf: (key: WrappedKey) => string,
  ): { keys: WrappedKey[]; tombstones: Tombstone[] } {
    const keys = keysStatement.all(JSON.stringify(names)).map(toKey);
    const found = new Set(keys.map(nameOf));
    const missing = names.filter((name) => !found.has(name));
    const tombstones = missing.length > 0 ? tombstonesStatement.all(JSON.stringify(missing)).map(toTombstone) : [];
    return { keys, tombstones };
  }
}
