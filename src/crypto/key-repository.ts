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

export interface KeyRepository {
  findByScopes(scopes: readonly string[]): Promise<{ keys: WrappedKey[]; tombstones: Tombstone[] }>;
  /** Keys and tombstones by key id (a tombstone keeps the id of the key it replaced). */
  findByKeyIds(keyIds: readonly string[]): Promise<{ keys: WrappedKey[]; tombstones: Tombstone[] }>;
  /**
   * Inserts the keys whose scope has neither a key nor a tombstone, in one durable commit, and
   * returns what each scope holds afterwards: the inserted key, the key a concurrent creator
   * stored first, or the tombstone that fences it.
   */
  insertMissing(keys: readonly WrappedKey[]): Promise<{ keys: WrappedKey[]; tombstones: Tombstone[] }>;
  /** Deletes the keys and writes tombstones in one transaction; idempotent. Returns keys destroyed. */
  shred(scopes: readonly string[], cause: ShredCause, at: string): Promise<number>;
  /**
   * The id of the master key that wraps this repository's keys, recorded once: by the first start
   * (the id of the keys already stored, if any, else `id`), and read back by every later one.
   */
  claimMasterKey(id: string, at: string): Promise<string>;
  /** Holds no master key record, no key and no tombstone: new, or not the ledger's (a lost keys.db). */
  holdsNothing(): Promise<boolean>;
  close(): Promise<void>;
}
