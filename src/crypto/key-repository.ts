/**
 * Storage port of the key store: wrapped data keys and tombstones. Adapters (SQLite in keys.db,
 * PostgreSQL in its own schema) keep rows only; wrapping, caching and the erasure fence live in
 * `KeyStore`, once for every backend.
 */
export interface WrappedKey {
  scope: string;
  keyId: string;
  masterKeyId: string;
  wrapped: Buffer;
  createdAt: string;
}

/** What a shred leaves behind: enough to tell "erased" from "missing", no key material. */
export interface Tombstone {
  scope: string;
  keyId: string | null;
  shreddedAt: string;
  reason: string;
  /** The forgetting event that caused the shred. */
  eventId: string | null;
}

export interface ShredCause {
  reason: string;
  eventId: string | null;
}

/** The scopes one forgetting destroys, and why. */
export interface Shred {
  scopes: readonly string[];
  cause: ShredCause;
}

/** The last master-key rotation, under way (finishedAt null) or done. */
export interface MasterKeyRotation {
  from: string;
  to: string;
  /** The next key wrapped by the previous one (MasterKey.wrapNext), until the first start on the next key. */
  bridge: Buffer | null;
  startedAt: string;
  finishedAt: string | null;
}

/** Keys wrapped by a master key that is no longer the current one: a rotation switched it meanwhile. */
export class MasterKeyRotated extends Error {
  constructor(readonly current: string) {
    super(`the master key was rotated to ${current}`);
    this.name = 'MasterKeyRotated';
  }
}

/** What a wipe of destroyed keys' bytes found: done (or nothing to do), or held back by a reader. */
export type WipeOutcome = 'wiped' | 'heldBack';

export interface KeyRepository {
  findByScopes(scopes: readonly string[]): Promise<{ keys: WrappedKey[]; tombstones: Tombstone[] }>;
  /** Keys and tombstones by key id (a tombstone keeps the id of the key it replaced). */
  findByKeyIds(keyIds: readonly string[]): Promise<{ keys: WrappedKey[]; tombstones: Tombstone[] }>;
  /**
   * Inserts the keys whose scope has neither a key nor a tombstone, in one durable commit, and
   * returns what each scope holds afterwards: the inserted key, the key a concurrent creator
   * stored first, or the tombstone that fences it. Throws MasterKeyRotated, inserting nothing,
   * when the keys are wrapped by a master key that is no longer the current one.
   */
  insertMissing(keys: readonly WrappedKey[]): Promise<{ keys: WrappedKey[]; tombstones: Tombstone[] }>;
  /**
   * Deletes the keys of every shred and writes their tombstones in one transaction (a scope named
   * twice keeps the first cause); idempotent. Returns keys destroyed.
   */
  shred(shreds: readonly Shred[], at: string): Promise<number>;
  /**
   * The id of the master key that wraps this repository's keys, recorded once: by the first start
   * (the id of the keys already stored, if any, else `id`), and read back by every later one.
   */
  claimMasterKey(id: string, at: string): Promise<string>;
  /** The last rotation, or null when the master key was never rotated. */
  rotation(): Promise<MasterKeyRotation | null>;
  /**
   * Makes `to` the current master key, in the transaction that records the rotation and its
   * bridge; from then on every key inserted is wrapped by `to`. Throws unless `from` is current.
   */
  beginRotation(rotation: { from: string; to: string; bridge: Buffer | null; at: string }): Promise<void>;
  /** How many keys `masterKeyId` wraps. */
  countWrappedBy(masterKeyId: string): Promise<number>;
  /** Up to `limit` keys wrapped by `masterKeyId`, in key id order after `afterKeyId` (a resumable pass). */
  keysWrappedBy(masterKeyId: string, afterKeyId: string, limit: number): Promise<WrappedKey[]>;
  /**
   * Stores keys wrapped again, each only where it is still wrapped by `from` (a key shredded
   * meanwhile stays shredded); returns how many were replaced.
   */
  rewrap(keys: readonly WrappedKey[], from: string): Promise<number>;
  /**
   * Wipes the replaced wrappings from the storage's files, then records the rotation as finished;
   * throws, leaving it unfinished (to be run again), when the wipe cannot be done.
   */
  finishRotation(at: string): Promise<void>;
  /** Drops the bridge from the storage's files: the first start on the next master key, after a finished rotation. */
  closeBridge(): Promise<void>;
  /**
   * Wipes the bytes of the keys destroyed so far from the storage's files, where a shred's own wipe
   * was held back (a reader of keys.db's WAL, a PostgreSQL snapshot older than the shred) or
   * failed: `heldBack` when it still is (done again by the next shred and the next call).
   */
  wipeShredded(): Promise<WipeOutcome>;
  /**
   * What it holds: a master key record, and data keys or tombstones (`scopes`). Nothing: new, or
   * not the ledger's (a lost keys.db); scopes beside an empty log: the log lost.
   */
  holdings(): Promise<{ masterKey: boolean; scopes: boolean }>;
  close(): Promise<void>;
}
