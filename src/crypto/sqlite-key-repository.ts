import type Database from 'better-sqlite3';
import { CallThread, startWorker } from '../worker-thread.js';
import type { KeyRepository, ShredCause, Tombstone, WrappedKey } from './key-repository.js';
import { asBuffer, KeysDbLookUps, openKeysDb } from './keys-db.js';

/** What the keys.db writer thread does: insert missing keys, or shred scopes. */
export type KeyWriterCall =
  { insert: readonly WrappedKey[] } | { shred: { scopes: readonly string[]; cause: ShredCause; at: string } };

type Found = { keys: WrappedKey[]; tombstones: Tombstone[] };

/**
 * The key repository in keys.db (see openKeysDb). Look-ups run on this thread's connection; key
 * creations and shreds on the keys.db writer thread, so their fsyncs never stall the requests
 * this thread serves (WAL: the look-ups never wait for the writer either).
 */
export class SqliteKeyRepository implements KeyRepository {
  private readonly db: Database.Database;
  private readonly lookUps: KeysDbLookUps;
  private readonly writer: CallThread<KeyWriterCall, Found | number>;

  /** `pageCacheMb`: SQLite page cache; a bulk reader, which visits each page once, needs little. */
  constructor(path: string, { pageCacheMb = 16 }: { pageCacheMb?: number } = {}) {
    this.db = openKeysDb(path, pageCacheMb);
    this.lookUps = new KeysDbLookUps(this.db);
    this.writer = new CallThread(
      () => startWorker(import.meta.url, './sqlite-key-writer-worker', { path }),
      'the keys.db writer thread',
    );
  }

  async findByScopes(scopes: readonly string[]) {
    return this.lookUps.byScopes(scopes);
  }

  async findByKeyIds(keyIds: readonly string[]) {
    return this.lookUps.byKeyIds(keyIds);
  }

  async insertMissing(keys: readonly WrappedKey[]) {
    const found = (await this.writer.call({ insert: keys })) as Found;
    return {
      keys: found.keys.map((key) => ({ ...key, wrapped: asBuffer(key.wrapped) })),
      tombstones: found.tombstones,
    };
  }

  async shred(scopes: readonly string[], cause: ShredCause, at: string) {
    return (await this.writer.call({ shred: { scopes, cause, at } })) as number;
  }

  async claimMasterKey(id: string, at: string) {
    this.db
      .prepare(
        `INSERT INTO master_key (singleton, id, recorded_at)
         VALUES (1, coalesce((SELECT master_key_id FROM keys LIMIT 1), ?), ?) ON CONFLICT DO NOTHING`,
      )
      .run(id, at);
    return this.db.prepare('SELECT id FROM master_key').pluck().get() as string;
  }

  async holdsNothing() {
    return (
      this.db
        .prepare(
          `SELECT NOT EXISTS (SELECT 1 FROM master_key) AND NOT EXISTS (SELECT 1 FROM keys)
             AND NOT EXISTS (SELECT 1 FROM tombstones)`,
        )
        .pluck()
        .get() === 1
    );
  }

  async close() {
    await this.writer.close();
    this.db.close();
  }
}
