import Database from 'better-sqlite3';
import { GroupCommit, settle } from '../store/group-commit.js';
import type { KeyRepository, ShredCause, Tombstone, WrappedKey } from './key-repository.js';

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

/**
 * keys.db: kept apart from events.db so that an event backup carries no key. secure_delete
 * overwrites freed pages with zeros, and a shred truncates the WAL, so destroyed key bytes do not
 * linger in either file.
 */
export class SqliteKeyRepository implements KeyRepository {
  private readonly db: Database.Database;
  private readonly statements;
  /** Key creations of concurrent publishes share one durable commit, like event appends do. */
  private readonly inserter: GroupCommit<readonly WrappedKey[], { keys: WrappedKey[]; tombstones: Tombstone[] }>;

  /** `pageCacheMb`: SQLite page cache; a bulk reader, which visits each page once, needs little. */
  constructor(path: string, { pageCacheMb = 16 }: { pageCacheMb?: number } = {}) {
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma('secure_delete = ON');
    this.db.pragma('busy_timeout = 5000');
    this.db.pragma(`cache_size = ${-1024 * pageCacheMb}`);
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS keys (
        scope TEXT PRIMARY KEY, key_id TEXT NOT NULL UNIQUE, master_key_id TEXT NOT NULL,
        wrapped BLOB NOT NULL, created_at TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS tombstones (
        scope TEXT PRIMARY KEY, key_id TEXT, shredded_at TEXT NOT NULL, reason TEXT NOT NULL, event_id TEXT);
      CREATE INDEX IF NOT EXISTS tombstones_key_id ON tombstones (key_id);`);
    this.statements = {
      keyByScope: this.db.prepare<[string], KeyRow>('SELECT * FROM keys WHERE scope = ?'),
      // Many names in one statement (a batch seals with hundreds of keys, a page of a rebuild opens
      // hundreds of seals): the names as a JSON array.
      keysByScopes: this.db.prepare<[string], KeyRow>(
        'SELECT * FROM keys WHERE scope IN (SELECT value FROM json_each(?))',
      ),
      keysByIds: this.db.prepare<[string], KeyRow>(
        'SELECT * FROM keys WHERE key_id IN (SELECT value FROM json_each(?))',
      ),
      tombstonesByScopes: this.db.prepare<[string], TombstoneRow>(
        'SELECT * FROM tombstones WHERE scope IN (SELECT value FROM json_each(?))',
      ),
      tombstonesByKeyIds: this.db.prepare<[string], TombstoneRow>(
        'SELECT * FROM tombstones WHERE key_id IN (SELECT value FROM json_each(?))',
      ),
      insert: this.db.prepare(
        `INSERT INTO keys (scope, key_id, master_key_id, wrapped, created_at)
         SELECT @scope, @keyId, @masterKeyId, @wrapped, @createdAt
         WHERE NOT EXISTS (SELECT 1 FROM tombstones WHERE scope = @scope)
         ON CONFLICT (scope) DO NOTHING`,
      ),
      delete: this.db.prepare('DELETE FROM keys WHERE scope = ?'),
      tombstone: this.db.prepare(
        `INSERT INTO tombstones (scope, key_id, shredded_at, reason, event_id) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (scope) DO NOTHING`,
      ),
    };
    const insertGroup = this.db.transaction((calls: Array<readonly WrappedKey[]>) =>
      calls.map((keys) =>
        settle(() => {
          const lost: string[] = [];
          for (const key of keys) if (this.statements.insert.run(key).changes === 0) lost.push(key.scope);
          const won = keys.filter((key) => !lost.includes(key.scope));
          // Only a scope another creator keyed first, or one forgotten meanwhile, is read back.
          const others = lost.length > 0 ? this.lookUp(lost) : { keys: [], tombstones: [] };
          return { keys: [...won, ...others.keys], tombstones: others.tombstones };
        }),
      ),
    );
    this.inserter = new GroupCommit((calls) => insertGroup.immediate(calls));
  }

  async findByScopes(scopes: readonly string[]) {
    return this.lookUp(scopes);
  }

  /** A scope holds a key or a tombstone, never both: tombstones are looked up only for scopes without a key. */
  private lookUp(scopes: readonly string[]) {
    return this.keysOrTombstones(
      scopes,
      this.statements.keysByScopes,
      this.statements.tombstonesByScopes,
      (key) => key.scope,
    );
  }

  async findByKeyIds(keyIds: readonly string[]) {
    return this.keysOrTombstones(
      keyIds,
      this.statements.keysByIds,
      this.statements.tombstonesByKeyIds,
      (key) => key.keyId,
    );
  }

  /** Many look-ups in one statement each (the names as a JSON array), for keys then for the rest's tombstones. */
  private keysOrTombstones(
    names: readonly string[],
    keysStatement: Database.Statement<[string], KeyRow>,
    tombstonesStatement: Database.Statement<[string], TombstoneRow>,
    nameOf: (key: WrappedKey) => string,
  ) {
    const keys = keysStatement.all(JSON.stringify(names)).map(toKey);
    const found = new Set(keys.map(nameOf));
    const missing = names.filter((name) => !found.has(name));
    const tombstones = missing.length > 0 ? tombstonesStatement.all(JSON.stringify(missing)).map(toTombstone) : [];
    return { keys, tombstones };
  }

  insertMissing(keys: readonly WrappedKey[]) {
    return this.inserter.submit(keys);
  }

  async shred(scopes: readonly string[], cause: ShredCause, at: string) {
    const destroyed = this.db
      .transaction(() => {
        let count = 0;
        for (const scope of scopes) {
          const key = this.statements.keyByScope.get(scope);
          count += this.statements.delete.run(scope).changes;
          this.statements.tombstone.run(scope, key?.key_id ?? null, at, cause.reason, cause.eventId);
        }
        return count;
      })
      .immediate();
    // The WAL still holds the page images with the deleted key: copy back and truncate it.
    if (destroyed > 0) this.db.pragma('wal_checkpoint(TRUNCATE)');
    return destroyed;
  }

  async close() {
    this.db.close();
  }
}
