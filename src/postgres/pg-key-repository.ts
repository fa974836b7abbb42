import {
  MasterKeyRotated,
  type KeyRepository,
  type MasterKeyRotation,
  type Shred,
  type ShredCause,
  type Tombstone,
  type WipeOutcome,
  type WrappedKey,
} from '../crypto/key-repository.js';
import { createSchema, schemaIdentifier, type LedgerPool } from './database.js';
import type pg from 'pg';

interface ScopeRow {
  scope: string;
  key_id: string | null;
  master_key_id: string | null;
  wrapped: Buffer | null;
  created_at: string | null;
  shredded_at: string | null;
  reason: string | null;
  event_id: string | null;
}

/**
 * One row per scope, holding either its wrapped key or its tombstone: a shred turns the key row
 * into the tombstone (ON CONFLICT DO UPDATE), and a key creation inserts only where the scope has
 * no row (ON CONFLICT DO NOTHING). Both race on the same unique index, so a scope being forgotten
 * can never get a key afterwards, across processes, without explicit locks.
 */
const ddl = (s: string) => `
  CREATE TABLE IF NOT EXISTS ${s}.scope_keys (
    scope text PRIMARY KEY,
    key_id text UNIQUE,
    master_key_id text,
    wrapped bytea,
    created_at text,
    shredded_at text,
    reason text,
    event_id text,
    CHECK ((wrapped IS NULL) = (shredded_at IS NOT NULL)));
  CREATE TABLE IF NOT EXISTS ${s}.master_key (
    singleton boolean PRIMARY KEY CHECK (singleton), id text NOT NULL, recorded_at text NOT NULL);
  CREATE TABLE IF NOT EXISTS ${s}.master_key_rotation (
    singleton boolean PRIMARY KEY CHECK (singleton), from_id text NOT NULL, to_id text NOT NULL,
    started_at text NOT NULL, finished_at text);
  CREATE TABLE IF NOT EXISTS ${s}.master_key_bridge (
    singleton boolean PRIMARY KEY CHECK (singleton), bridge bytea NOT NULL);
  CREATE TABLE IF NOT EXISTS ${s}.key_wipes (
    singleton boolean PRIMARY KEY CHECK (singleton), shreds bigint NOT NULL, wiped bigint NOT NULL,
    last_shred_txid bigint NOT NULL);
  DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_attribute
      WHERE attrelid = to_regclass('${s}.key_wipes') AND attname = 'last_shred_txid' AND NOT attisdropped) THEN
    ALTER TABLE ${s}.key_wipes ADD COLUMN last_shred_txid bigint NOT NULL DEFAULT txid_current(),
      DROP COLUMN last_shred_xid; END IF; END $$;
  INSERT INTO ${s}.key_wipes SELECT true, 1, 0, txid_current() WHERE NOT EXISTS (SELECT 1 FROM ${s}.key_wipes)
    ON CONFLICT DO NOTHING;`;

const toKey = (row: ScopeRow): WrappedKey => ({
  scope: row.scope,
  keyId: row.key_id!,
  masterKeyId: row.master_key_id!,
  wrapped: row.wrapped!,
  createdAt: row.created_at!,
});
const toTombstone = (row: ScopeRow): Tombstone => ({
  scope: row.scope,
  keyId: row.key_id,
  shreddedAt: row.shredded_at!,
  reason: row.reason!,
  eventId: row.event_id,
});

/** How long a rotation's or a wipe's VACUUM FULL may take: the table is rewritten whole. */
const WIPE_TIMEOUT_MS = 3_600_000;
/**
 * How long a wipe waits for the keys table's lock (a dump holds one for its whole run): it gives
 * up rather than queue the key look-ups behind it, and is tried again.
 */
const WIPE_LOCK_TIMEOUT_MS = 100;
/** While a wipe is owed (held back, or failed), it is tried again this often. */
const WIPE_RETRY_MS = 60_000;
/** lock_not_available: the lock wait gave up (lock_timeout). */
const LOCK_NOT_AVAILABLE = '55P03';

/**
 * Keys in PostgreSQL, in their own schema (and, with LEDGER_KEYS_DATABASE_URL, their own database),
 * so that a dump or a replica of the events carries no key.
 *
 * Physical erasure: PostgreSQL never overwrites a row in place; an UPDATE leaves the old version,
 * wrapped key included, in the page until VACUUM, and a plain VACUUM frees its space without
 * wiping it (the bytes stay until a later row happens to overwrite them). So every shred that
 * destroyed a key is followed by VACUUM FULL of the table, which rewrites it into a new file and
 * drops the old one: the destroyed bytes are in no page of the table. Shreds arriving during a
 * VACUUM FULL share the next one. But VACUUM FULL copies the row versions a snapshot still open
 * may see: a wipe counts only when nothing older than the last shred was open (holdersOlderThan).
 * Shreds and wipes are counted in `key_wipes`, in the shred's own transaction, so a wipe held
 * back (or a VACUUM that failed, or a crash) is done again every minute while the process runs, by
 * the next shred, and at every start (wipeShredded). The first start on this version owes one. What
 * remains is outside the table: WAL segments until they are recycled, base backups and WAL
 * archives until they expire (docs/multi-machine.md).
 */
export class PgKeyRepository implements KeyRepository {
  private readonly s: string;
  private wiping: Promise<unknown> = Promise.resolve();
  private nextWipe: Promise<WipeOutcome> | null = null;
  private wipeRetry: NodeJS.Timeout | null = null;
  private closed = false;

  private constructor(
    private readonly pool: LedgerPool,
    schema: string,
    /** How long a rotation's wipe waits for the snapshots older than its re-wrap to end. */
    private readonly snapshotWaitMs: number,
    /** Told of a wipe that failed where no caller awaits it (after a shred, a retry): the repository has no logger. */
    private readonly onWipeFailed: (error: Error) => void,
  ) {
    this.s = schemaIdentifier(schema);
  }

  static async open(
    pool: LedgerPool,
    schema: string,
    {
      snapshotWaitMs = 60_000,
      onWipeFailed = () => {},
    }: { snapshotWaitMs?: number; onWipeFailed?: (error: Error) => void } = {},
  ): Promise<PgKeyRepository> {
    await createSchema(pool, schema, ddl(schemaIdentifier(schema)));
    return new PgKeyRepository(pool, schema, snapshotWaitMs, onWipeFailed);
  }

  async claimMasterKey(id: string, at: string) {
    await this.pool.query(
      `INSERT INTO ${this.s}.master_key (singleton, id, recorded_at)
       VALUES (true, coalesce(
         (SELECT master_key_id FROM ${this.s}.scope_keys WHERE master_key_id IS NOT NULL LIMIT 1), $1), $2)
       ON CONFLICT DO NOTHING`,
      [id, at],
    );
    const { rows } = await this.pool.query<{ id: string }>(`SELECT id FROM ${this.s}.master_key`);
    return rows[0]!.id;
  }

  private async currentMasterKey(): Promise<string | null> {
    const { rows } = await this.pool.query<{ id: string }>(`SELECT id FROM ${this.s}.master_key`);
    return rows[0]?.id ?? null;
  }

  async rotation(): Promise<MasterKeyRotation | null> {
    const { rows } = await this.pool.query<{
      from_id: string;
      to_id: string;
      bridge: Buffer | null;
      started_at: string;
      finished_at: string | null;
    }>(`SELECT r.*, b.bridge FROM ${this.s}.master_key_rotation r LEFT JOIN ${this.s}.master_key_bridge b ON true`);
    const row = rows[0];
    return row
      ? { from: row.from_id, to: row.to_id, bridge: row.bridge, startedAt: row.started_at, finishedAt: row.finished_at }
      : null;
  }

  async beginRotation({ from, to, bridge, at }: { from: string; to: string; bridge: Buffer | null; at: string }) {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const { rowCount } = await client.query(`UPDATE ${this.s}.master_key SET id = $1 WHERE id = $2`, [to, from]);
      if (rowCount !== 1) throw new Error(`master key ${from} is not the current one: no rotation from it`);
      await client.query(
        `INSERT INTO ${this.s}.master_key_rotation (singleton, from_id, to_id, started_at, finished_at)
         VALUES (true, $1, $2, $3, NULL)
         ON CONFLICT (singleton) DO UPDATE SET from_id = $1, to_id = $2, started_at = $3, finished_at = NULL`,
        [from, to, at],
      );
      await client.query(`DELETE FROM ${this.s}.master_key_bridge`);
      if (bridge) await client.query(`INSERT INTO ${this.s}.master_key_bridge VALUES (true, $1)`, [bridge]);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK');
      throw error;
    } finally {
      client.release();
    }
  }

  async countWrappedBy(masterKeyId: string) {
    const { rows } = await this.pool.query<{ count: string }>(
      `SELECT count(*) FROM ${this.s}.scope_keys WHERE master_key_id = $1`,
      [masterKeyId],
    );
    return Number(rows[0]!.count);
  }

  async keysWrappedBy(masterKeyId: string, afterKeyId: string, limit: number) {
    const { rows } = await this.pool.query<ScopeRow>(
      `SELECT * FROM ${this.s}.scope_keys WHERE key_id > $1 AND master_key_id = $2 ORDER BY key_id LIMIT $3`,
      [afterKeyId, masterKeyId, limit],
    );
    return rows.map(toKey);
  }

  async rewrap(keys: readonly WrappedKey[], from: string) {
    const { rowCount } = await this.pool.query(
      `UPDATE ${this.s}.scope_keys AS k SET master_key_id = u.master_key_id, wrapped = u.wrapped
       FROM unnest($1::text[], $2::text[], $3::bytea[]) AS u(key_id, master_key_id, wrapped)
       WHERE k.key_id = u.key_id AND k.master_key_id = $4`,
      [keys.map((key) => key.keyId), keys.map((key) => key.masterKeyId), keys.map((key) => key.wrapped), from],
    );
    return rowCount ?? 0;
  }

  /**
   * The old wrappings are dead row versions until VACUUM FULL rewrites the table (see the class);
   * but VACUUM FULL copies every version a snapshot still open may see, so it waits for the
   * snapshots older than the last re-wrap to end first (a long report, a pg_dump), and says which
   * sessions hold it back. Without a statement time-out: the table is rewritten whole.
   */
  async finishRotation(at: string) {
    await this.waitForOlderSnapshots();
    await this.vacuumFull(this.pool, WIPE_TIMEOUT_MS);
    await this.pool.query(`UPDATE ${this.s}.master_key_rotation SET finished_at = $1 WHERE finished_at IS NULL`, [at]);
  }

  /**
   * VACUUM FULL of the keys table, which must rewrite it into a new file: run by a role that does
   * not own the table, it only warns and skips it, and nothing would be wiped.
   */
  private async vacuumFull(on: pg.Pool | pg.PoolClient, timeoutMs: number): Promise<void> {
    const file = async () =>
      (await on.query<{ file: string }>(`SELECT pg_relation_filenode('${this.s}.scope_keys')::text AS file`)).rows[0]!
        .file;
    const before = await file();
    // query_timeout per query: node-postgres reads it from the query's config (its types omit it).
    await on.query({ text: `VACUUM FULL ${this.s}.scope_keys`, query_timeout: timeoutMs } as pg.QueryConfig);
    if ((await file()) === before) {
      throw new Error(`VACUUM FULL did not rewrite ${this.s}.scope_keys: the ledger's role must own the keys tables`);
    }
  }

  private async waitForOlderSnapshots(): Promise<void> {
    const {
      rows: [{ txid } = { txid: '' }],
    } = await this.pool.query<{ txid: string }>(`SELECT txid_current()::text AS txid`);
    const deadline = Date.now() + this.snapshotWaitMs;
    for (;;) {
      const held = await this.holdersOlderThan(txid);
      if (held.length === 0) return;
      if (Date.now() > deadline) {
        throw new Error(
          `${held.join(', ')}: they hold snapshots from before the re-wrap, ` +
            'which would keep the old wrappings in the keys table: run the rotation again once they have ended',
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }

  /**
   * What may still see row versions from before transaction `txid` (64-bit): the sessions of this
   * database and the WAL senders of standbys with hot_standby_feedback (no database), by their
   * snapshot or transaction; the replication slots; the prepared transactions. VACUUM FULL keeps
   * every row version one of them may see. Both sides by age() (from the same next xid); a txid
   * older than any xid can be (2^31) has none.
   */
  private async holdersOlderThan(txid: string): Promise<string[]> {
    const { rows } = await this.pool.query<{ holder: string }>(
      `WITH since AS (SELECT txid_snapshot_xmax(txid_current_snapshot()) - $1::bigint < 2147483647 AS recent,
         age(($1::bigint % 4294967296)::text::xid) AS age),
       holders AS (
         SELECT 'session ' || pid AS holder, backend_xmin AS xmin, backend_xid AS xid FROM pg_stat_activity
         WHERE pid <> pg_backend_pid() AND (datname = current_database() OR datname IS NULL)
         UNION ALL SELECT 'slot ' || slot_name, xmin, NULL FROM pg_replication_slots
         UNION ALL SELECT 'prepared transaction ' || gid, NULL, transaction FROM pg_prepared_xacts
         WHERE database = current_database())
       SELECT holder FROM holders, since WHERE since.recent AND (age(xmin) >= since.age OR age(xid) >= since.age)`,
      [txid],
    );
    return rows.map((row) => row.holder);
  }

  /** TRUNCATE drops the table's file whatever snapshots are open: the bridge is in no page afterwards. */
  async closeBridge() {
    await this.pool.query(`TRUNCATE ${this.s}.master_key_bridge`);
  }

  async holdings() {
    const { rows } = await this.pool.query<{ masterKey: boolean; scopes: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM ${this.s}.master_key) AS "masterKey",
         EXISTS (SELECT 1 FROM ${this.s}.scope_keys) AS scopes`,
    );
    return rows[0]!;
  }

  async findByScopes(scopes: readonly string[]) {
    const { rows } = await this.pool.query<ScopeRow>(
      `SELECT * FROM ${this.s}.scope_keys WHERE scope = ANY($1::text[])`,
      [scopes],
    );
    return this.split(rows);
  }

  private split(rows: ScopeRow[]) {
    return {
      keys: rows.filter((row) => row.wrapped !== null).map(toKey),
      tombstones: rows.filter((row) => row.wrapped === null).map(toTombstone),
    };
  }

  async findByKeyIds(keyIds: readonly string[]) {
    const { rows } = await this.pool.query<ScopeRow>(
      `SELECT * FROM ${this.s}.scope_keys WHERE key_id = ANY($1::text[])`,
      [keyIds],
    );
    return this.split(rows);
  }

  /**
   * Rows are written in scope order, in every statement: two concurrent publishes keying the same
   * scopes then wait for each other instead of deadlocking on the unique index.
   */
  async insertMissing(keys: readonly WrappedKey[]) {
    if (keys.length === 0) return { keys: [], tombstones: [] };
    const masterKeyIds = new Set(keys.map((key) => key.masterKeyId));
    if (masterKeyIds.size > 1) throw new Error('keys inserted together are wrapped by one master key');
    // FOR SHARE: a rotation's switch of the current key waits for this insert, or this insert for
    // it and then sees the new key and inserts nothing.
    const { rows } = await this.pool.query<{ scope: string }>(
      `WITH current AS (SELECT id FROM ${this.s}.master_key FOR SHARE)
       INSERT INTO ${this.s}.scope_keys (scope, key_id, master_key_id, wrapped, created_at)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bytea[], $5::text[]) AS u(scope)
       WHERE NOT EXISTS (SELECT 1 FROM current WHERE id <> $3[1]) ORDER BY scope
       ON CONFLICT (scope) DO NOTHING RETURNING scope`,
      [
        keys.map((k) => k.scope),
        keys.map((k) => k.keyId),
        keys.map((k) => k.masterKeyId),
        keys.map((k) => k.wrapped),
        keys.map((k) => k.createdAt),
      ],
    );
    if (rows.length === 0) {
      const current = await this.currentMasterKey();
      if (current !== null && current !== keys[0]!.masterKeyId) throw new MasterKeyRotated(current);
    }
    const inserted = new Set(rows.map((row) => row.scope));
    const lost = keys.filter((key) => !inserted.has(key.scope)).map((key) => key.scope);
    // Only a scope another creator keyed first, or one forgotten meanwhile, is read back.
    const others = lost.length > 0 ? await this.findByScopes(lost) : { keys: [], tombstones: [] };
    return { keys: [...keys.filter((key) => inserted.has(key.scope)), ...others.keys], tombstones: others.tombstones };
  }

  async shred(shreds: readonly Shred[], at: string) {
    // One row a scope (a statement may not update a row twice): a scope named twice keeps its first cause.
    const causes = new Map<string, ShredCause>();
    for (const { scopes, cause } of shreds)
      for (const scope of scopes) if (!causes.has(scope)) causes.set(scope, cause);
    if (causes.size === 0) return 0;
    const scopes = [...causes.keys()];
    // xmax is set on a row version written by the DO UPDATE branch: a key that was destroyed. A
    // shred that destroyed one is counted in the same transaction: its wipe is owed from then on.
    const { rows } = await this.pool.query<{ destroyed: number }>(
      `WITH shredded AS (
         INSERT INTO ${this.s}.scope_keys (scope, shredded_at, reason, event_id)
         SELECT scope, $2, reason, event_id
         FROM unnest($1::text[], $3::text[], $4::text[]) AS u(scope, reason, event_id)
         ORDER BY scope
         ON CONFLICT (scope) DO UPDATE SET master_key_id = NULL, wrapped = NULL,
           shredded_at = excluded.shredded_at, reason = excluded.reason, event_id = excluded.event_id
         WHERE scope_keys.wrapped IS NOT NULL
         RETURNING xmax <> 0 AS destroyed),
       counted AS (
         UPDATE ${this.s}.key_wipes SET shreds = shreds + 1, last_shred_txid = txid_current()
         WHERE EXISTS (SELECT 1 FROM shredded WHERE destroyed))
       SELECT count(*) FILTER (WHERE destroyed)::int AS destroyed FROM shredded`,
      [scopes, at, scopes.map((scope) => causes.get(scope)!.reason), scopes.map((scope) => causes.get(scope)!.eventId)],
    );
    const destroyed = rows[0]!.destroyed;
    // The keys are destroyed whatever becomes of the wipe: owed, it is retried (wipeShredded).
    if (destroyed > 0) await this.wipeShredded().catch(this.reportWipeFailure);
    return destroyed;
  }

  /**
   * VACUUM FULL while a wipe is owed; callers arriving while one runs share the next one. Held back
   * or failed, it is tried again in a minute, and so on while the process runs.
   */
  wipeShredded(): Promise<WipeOutcome> {
    if (this.closed) return Promise.resolve('heldBack');
    if (this.nextWipe) return this.nextWipe;
    const next = this.wiping.then(async () => {
      this.nextWipe = null;
      return this.wipeOwed();
    });
    this.nextWipe = next;
    this.wiping = next.then(
      (outcome) => outcome === 'heldBack' && this.retryWipe(),
      () => this.retryWipe(),
    );
    return next;
  }

  private retryWipe(): void {
    if (this.closed) return;
    this.wipeRetry ??= setTimeout(() => {
      this.wipeRetry = null;
      this.wipeShredded().catch(this.reportWipeFailure);
    }, WIPE_RETRY_MS).unref();
  }

  private readonly reportWipeFailure = (error: unknown) =>
    this.onWipeFailed(error instanceof Error ? error : new Error(String(error)));

  /**
   * Counts the shreds up to now as wiped once VACUUM FULL has rewritten the table with nothing open
   * from before the last of them, looked for before (no VACUUM then: it would keep them) and after.
   * On a connection of its own: its lock wait gives up (lock_timeout) rather than queue every key
   * look-up behind it, and the server, not only the client, bounds it.
   */
  private async wipeOwed(): Promise<WipeOutcome> {
    const {
      rows: [owed],
    } = await this.pool.query<{ shreds: string; wiped: string; last_shred_txid: string }>(
      `SELECT shreds, wiped, last_shred_txid::text FROM ${this.s}.key_wipes`,
    );
    if (!owed || owed.shreds === owed.wiped) return 'wiped';
    if ((await this.holdersOlderThan(owed.last_shred_txid)).length > 0) return 'heldBack';
    const client = await this.pool.connect();
    try {
      await client.query(`SET lock_timeout = ${WIPE_LOCK_TIMEOUT_MS}; SET statement_timeout = ${WIPE_TIMEOUT_MS}`);
      await this.vacuumFull(client, WIPE_TIMEOUT_MS + 60_000);
    } catch (error) {
      if ((error as { code?: unknown }).code === LOCK_NOT_AVAILABLE) return 'heldBack';
      throw error;
    } finally {
      // Dropped, not returned to the pool with its settings.
      client.release(true);
    }
    if ((await this.holdersOlderThan(owed.last_shred_txid)).length > 0) return 'heldBack';
    await this.pool.query(`UPDATE ${this.s}.key_wipes SET wiped = greatest(wiped, $1::bigint)`, [owed.shreds]);
    return 'wiped';
  }

  /** The pool belongs to whoever opened it. */
  async close() {
    this.closed = true;
    if (this.wipeRetry) clearTimeout(this.wipeRetry);
    this.wipeRetry = null;
    await this.wiping;
  }
}
