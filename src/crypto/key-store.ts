import { v7 as uuidv7 } from 'uuid';
import { LRUCache } from 'lru-cache';
import { Forgotten, IntegrityError } from '../domain/errors.js';
import type { MasterKey } from './master-key.js';
import { pooledRandomBytes } from './aead.js';
import type { KeyRepository, ShredCause, Tombstone, WrappedKey } from './key-repository.js';
import type { DataKey } from './seal.js';

export type KeyLookup =
  { status: 'open'; key: DataKey } | { status: 'erased'; tombstone: Tombstone } | { status: 'missing' };

export interface KeyStoreOptions {
  /** Opened keys kept in memory (LRU). */
  cacheSize?: number;
  /**
   * How long an opened key may stay cached: bounds how long another process's shred can go
   * unnoticed here (the shredder reaction evicts at once when it sees the forgetting event).
   * 0: no expiry, the LRU alone evicts.
   */
  cacheTtlMs?: number;
  now?: () => Date;
}

/** The configured master key is not the one that wraps the ledger's keys. */
export class WrongMasterKey extends Error {
  constructor(
    readonly recordedId: string,
    readonly configuredId: string,
  ) {
    super(
      `the keys of this ledger are wrapped by master key ${recordedId}, not by the configured one ` +
        `(${configuredId}): set LEDGER_MASTER_KEY or LEDGER_MASTER_KEY_FILE to the ledger's master key`,
    );
    this.name = 'WrongMasterKey';
  }
}

/** A log with events beside a key store that holds nothing: keys.db lost, or another ledger's. */
export class MissingKeyStore extends Error {
  constructor(
    readonly keyStore: string,
    readonly events: number,
  ) {
    super(
      `the log holds ${events} events but the key store (${keyStore}) holds no key: it is missing or not ` +
        `this ledger's. Restore it from its backup (kept apart from the events); without it every sealed ` +
        'field is unreadable',
    );
    this.name = 'MissingKeyStore';
  }
}

/**
 * Per-scope data keys, wrapped by the master key, with an LRU of opened keys. Enforces the
 * erasure fence: a shredded scope never gets a new key, so nothing new can be sealed for it.
 */
export class KeyStore {
  private readonly byScope: LRUCache<string, DataKey>;
  private readonly byKeyId: LRUCache<string, DataKey>;
  private readonly now: () => Date;

  constructor(
    private readonly repository: KeyRepository,
    private readonly masterKey: MasterKey,
    options: KeyStoreOptions = {},
  ) {
    const cache = { max: options.cacheSize ?? 50_000, ttl: options.cacheTtlMs ?? 60_000 };
    this.byScope = new LRUCache(cache);
    this.byKeyId = new LRUCache(cache);
    this.now = options.now ?? (() => new Date());
  }

  /**
   * Refuses a master key that is not the one this key database records (recording it on a new
   * one): with another key, every read of a sealed field and every key created would fail or
   * split the ledger between two keys. The message names the ids, never a key.
   */
  async checkMasterKey(): Promise<void> {
    const recorded = await this.repository.claimMasterKey(this.masterKey.id, this.now().toISOString());
    if (recorded !== this.masterKey.id) throw new WrongMasterKey(recorded, this.masterKey.id);
  }

  /** Keys to seal with, created on first use. Throws Forgotten if any scope was shredded. */
  async keysFor(scopes: Iterable<string>): Promise<Map<string, DataKey>> {
    const result = new Map<string, DataKey>();
    const misses: string[] = [];
    for (const scope of new Set(scopes)) {
      const cached = this.byScope.get(scope);
      if (cached) result.set(scope, cached);
      else misses.push(scope);
    }
    if (misses.length === 0) return result;
    const found = this.openFound(await this.repository.findByScopes(misses));
    const absent = misses.filter((scope) => !found.has(scope));
    if (absent.length > 0) for (const [scope, key] of await this.create(absent)) found.set(scope, key);
    for (const scope of misses) {
      const key = found.get(scope);
      if (!key) throw new Forgotten(scope, null);
      result.set(scope, key);
    }
    return result;
  }

  /**
   * Creates random keys for scopes that have none. A key a concurrent creator stored first wins
   * and is unwrapped; ours are used as generated; a scope forgotten meanwhile throws Forgotten.
   */
  private async create(scopes: string[]): Promise<Map<string, DataKey>> {
    const generated = new Map(
      scopes.map((scope): [string, DataKey] => {
        const keyId = uuidv7();
        return [keyId, { keyId, scope, key: pooledRandomBytes(32) }];
      }),
    );
    const stored = await this.repository.insertMissing([...generated.values()].map((key) => this.wrap(key)));
    const theirs = stored.keys.filter((row) => !generated.has(row.keyId));
    const keys = this.openFound({ keys: theirs, tombstones: stored.tombstones });
    for (const row of stored.keys) {
      const mine = generated.get(row.keyId);
      if (mine) keys.set(row.scope, this.cache(mine));
    }
    return keys;
  }

  /** The key that opens a sealed part, or why it cannot: erased (shredded) or missing. */
  async keyById(keyId: string): Promise<KeyLookup> {
    const cached = this.byKeyId.get(keyId);
    if (cached) return { status: 'open', key: cached };
    const {
      keys: [key],
      tombstones: [tombstone],
    } = await this.repository.findByKeyIds([keyId]);
    if (key) return { status: 'open', key: this.openWrapped(key) };
    return tombstone ? { status: 'erased', tombstone } : { status: 'missing' };
  }

  /**
   * Loads the keys of many sealed parts in one look-up (a page of a rebuild), so opening them
   * costs no round trip each.
   */
  async prefetch(keyIds: Iterable<string>): Promise<void> {
    const misses = [...new Set(keyIds)].filter((keyId) => !this.byKeyId.has(keyId));
    if (misses.length === 0) return;
    for (const wrapped of (await this.repository.findByKeyIds(misses)).keys) this.openWrapped(wrapped);
  }

  /**
   * Which of these keys were destroyed, with the forgetting event that destroyed each, without
   * opening any key: what an auditor's read of the log needs.
   */
  async destroyed(keyIds: Iterable<string>): Promise<Map<string, string | null>> {
    const wanted = [...new Set(keyIds)];
    if (wanted.length === 0) return new Map();
    const { tombstones } = await this.repository.findByKeyIds(wanted);
    return new Map(tombstones.map((tombstone) => [tombstone.keyId!, tombstone.eventId]));
  }

  /** Destroys the keys of the scopes (idempotent) and evicts them from the cache. */
  async shred(scopes: readonly string[], cause: ShredCause): Promise<number> {
    this.evict(scopes);
    const destroyed = await this.repository.shred(scopes, cause, this.now().toISOString());
    this.evict(scopes);
    return destroyed;
  }

  /** Forgets cached keys (another process shredded them, or the scope is being forgotten). */
  evict(scopes: readonly string[]): void {
    for (const scope of scopes) {
      const key = this.byScope.get(scope);
      if (key) this.byKeyId.delete(key.keyId);
      this.byScope.delete(scope);
    }
  }

  close(): Promise<void> {
    return this.repository.close();
  }

  private openFound({ keys, tombstones }: { keys: WrappedKey[]; tombstones: Tombstone[] }): Map<string, DataKey> {
    const fenced = tombstones[0];
    if (fenced) throw new Forgotten(fenced.scope, fenced.eventId);
    return new Map(keys.map((wrapped) => [wrapped.scope, this.openWrapped(wrapped)]));
  }

  private openWrapped(wrapped: WrappedKey): DataKey {
    if (wrapped.masterKeyId !== this.masterKey.id) {
      throw new IntegrityError(
        `key ${wrapped.keyId} is wrapped by master key ${wrapped.masterKeyId}, not the configured one`,
      );
    }
    let key: Buffer;
    try {
      key = this.masterKey.unwrap(wrapped.wrapped, wrapped.scope, wrapped.keyId);
    } catch {
      throw new IntegrityError(`key ${wrapped.keyId} failed to unwrap (tampered keys store or wrong master key)`);
    }
    return this.cache({ keyId: wrapped.keyId, scope: wrapped.scope, key });
  }

  private cache(dataKey: DataKey): DataKey {
    this.byScope.set(dataKey.scope, dataKey);
    this.byKeyId.set(dataKey.keyId, dataKey);
    return dataKey;
  }

  /** Key ids are time-ordered (UUIDv7): not secret, and they append to the index instead of scattering. */
  private wrap(dataKey: DataKey): WrappedKey {
    return {
      scope: dataKey.scope,
      keyId: dataKey.keyId,
      masterKeyId: this.masterKey.id,
      wrapped: this.masterKey.wrap(dataKey.key, dataKey.scope, dataKey.keyId),
      createdAt: this.now().toISOString(),
    };
  }
}
