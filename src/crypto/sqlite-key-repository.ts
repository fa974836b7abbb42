import type Database from 'better-sqlite3';
import { CallThread, startWorker } from '../worker-thread.js';
import {
  MasterKeyRotated,
  type KeyRepository,
  type MasterKeyRotation,
  type Shred,
  type Tombstone,
  type WipeOutcome,
  type WrappedKey,
} from './key-repository.js';
import { asBuffer, KeysDbLookUps, openKeysDb, truncateWal, walTruncated } from './keys-db.js';

/** What the keys.db writer thread does: insert missing keys, or shred the scopes of many forgettings at once. */
export type KeyWriterCall = { insert: readonly WrappedKey[] } | { shred: { shreds: readonly Shred[]; at: string } };

type Found = { keys: WrappedKey[]; tombstones: Tombstone[] };
/** What an insert answers: the scopes' keys and tombstones, or the current master key when it is not theirs. */
export type InsertAnswer = Found | { rotatedTo: string };

interface RotationRow {
  from_id: string;
  to_id: string;
  bridge: Buffer | null;
  started_at: string;
  finished_at: string | null;
}

/** How long a wipe asked on this thread waits for the WAL's other users. */
const WIPE_BUSY_MS = 250;

/**
 * The key repository in keys.db (see openKeysDb). Look-ups run on this thread's connection; key
 * creations and shreds on the keys.db writer thread, so their fsyncs never stall the requests
 * this thread serves (WAL: the look-ups never wait for the writer either).
 */
export class SqliteKeyRepository implements KeyRepository {
  private readonly db: Database.Database;
  private readonly lookUps: KeysDbLookUps;
  private readonly writer: CallThread<KeyWriterCall, InsertAnswer | number>;

  private readonly wipeTries: number;

  /**
   * `pageCacheMb`: SQLite page cache; a bulk reader, which visits each page once, needs little.
   * `wipeTries`: how many times a rotation's wipe waits busy_timeout for the WAL's readers (truncateWal).
   */
  constructor(path: string, { pageCacheMb = 16, wipeTries = 6 }: { pageCacheMb?: number; wipeTries?: number } = {}) {
    this.wipeTries = wipeTries;
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
    const found = (await this.writer.call({ insert: keys })) as InsertAnswer;
    if ('rotatedTo' in found) throw new MasterKeyRotated(found.rotatedTo);
    return {
      keys: found.keys.map((key) => ({ ...key, wrapped: asBuffer(key.wrapped) })),
      tombstones: found.tombstones,
    };
  }

  /** One message to the writer thread for all the shreds: one commit, all of them or none. */
  async shred(shreds: readonly Shred[], at: string) {
    return (await this.writer.call({ shred: { shreds, at } })) as number;
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

  async rotation(): Promise<MasterKeyRotation | null> {
    const row = this.db.prepare<[], RotationRow>('SELECT * FROM master_key_rotation').get();
    return row
      ? {
          from: row.from_id,
          to: row.to_id,
          bridge: row.bridge,
          startedAt: row.started_at,
          finishedAt: row.finished_at,
        }
      : null;
  }

  /**
   * On this thread's connection: a rotation runs in its own process (`ledger keys rotate-master`),
   * and each of its statements is one short write transaction beside the ledger's writer.
   */
  async beginRotation({ from, to, bridge, at }: { from: string; to: string; bridge: Buffer | null; at: string }) {
    this.db
      .transaction(() => {
        const switched = this.db.prepare('UPDATE master_key SET id = ? WHERE id = ?').run(to, from).changes;
        if (switched !== 1) throw new Error(`master key ${from} is not the current one: no rotation from it`);
        this.db
          .prepare(
            `INSERT OR REPLACE INTO master_key_rotation (singleton, from_id, to_id, bridge, started_at, finished_at)
             VALUES (1, ?, ?, ?, ?, NULL)`,
          )
          .run(from, to, bridge, at);
      })
      .immediate();
  }

  async countWrappedBy(masterKeyId: string) {
    return this.db.prepare('SELECT count(*) FROM keys WHERE master_key_id = ?').pluck().get(masterKeyId) as number;
  }

  async keysWrappedBy(masterKeyId: string, afterKeyId: string, limit: number) {
    return this.lookUps.wrappedBy(masterKeyId, afterKeyId, limit);
  }

  async rewrap(keys: readonly WrappedKey[], from: string) {
    const update = this.db.prepare(
      'UPDATE keys SET master_key_id = ?, wrapped = ? WHERE key_id = ? AND master_key_id = ?',
    );
    return this.db
      .transaction(() =>
        keys.reduce((count, key) => count + update.run(key.masterKeyId, key.wrapped, key.keyId, from).changes, 0),
      )
      .immediate();
  }

  /** secure_delete overwrote the old wrappings in the file; the WAL still holds their pages: wiped first. */
  async finishRotation(at: string) {
    truncateWal(this.db, this.wipeTries);
    this.db.prepare('UPDATE master_key_rotation SET finished_at = ? WHERE finished_at IS NULL').run(at);
  }

  /**
   * The writer truncates the WAL after each shred, unless a reader of it (a backup) holds it back:
   * the page images with the destroyed keys are gone once it is truncated, whatever came before.
   */
  async wipeShredded(): Promise<WipeOutcome> {
    // This thread serves requests: it waits a moment for the writer's commit, not busy_timeout for a backup.
    const waits = this.db.pragma('busy_timeout', { simple: true }) as number;
    this.db.pragma(`busy_timeout = ${WIPE_BUSY_MS}`);
    try {
      return walTruncated(this.db) ? 'wiped' : 'heldBack';
    } finally {
      this.db.pragma(`busy_timeout = ${waits}`);
    }
  }

  async closeBridge() {
    this.db.prepare('UPDATE master_key_rotation SET bridge = NULL').run();
    truncateWal(this.db, this.wipeTries);
  }

  async holdings() {
    const held = this.db
      .prepare<[], { masterKey: number; scopes: number }>(
        `SELECT EXISTS (SELECT 1 FROM master_key) AS masterKey,
           EXISTS (SELECT 1 FROM keys) OR EXISTS (SELECT 1 FROM tombstones) AS scopes`,
      )
      .get()!;
    return { masterKey: held.masterKey === 1, scopes: held.scopes === 1 };
  }

  async close() {
    await this.writer.close();
    this.db.close();
  }
}
