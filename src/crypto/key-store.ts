import { v7 as uuidv7 } from 'uuid';
import { LRUCache } from 'lru-cache';
import { Forgotten, IntegrityError } from '../domain/errors.js';
import type { MasterKey } from './master-key.js';
import { pooledRandomBytes } from './aead.js';
import {
  MasterKeyRotated,
  type KeyRepository,
  type MasterKeyRotation,
  type Shred,
  type ShredCause,
  type Tombstone,
  type WipeOutcome,
  type WrappedKey,
} from './key-repository.js';
import type { DataKey } from './seal.js';

export type KeyLookup =
  { status: 'open'; key: DataKey } | { status: 'erased'; tombstone: Tombstone } | { status: 'missing' };

/** What one look-up of many key ids found: wrapped keys and tombstones, by key id. */
interface FoundByKeyId {
  keys: Map<string, WrappedKey>;
  tombstones: Map<string, Tombstone>;
}

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

/** A start on the next master key while its rotation has keys left to re-wrap. */
export class RotationUnfinished extends Error {
  constructor(readonly rotation: Pick<MasterKeyRotation, 'from' | 'to'>) {
    super(
      `the rotation of the master key from ${rotation.from} to ${rotation.to} is not finished: run ` +
        '`ledger keys rotate-master --new-key-file FILE` again (the current key configured, the new one in FILE), ' +
        'or start on the current key meanwhile',
    );
    this.name = 'RotationUnfinished';
  }
}

/**
 * A key store holding keys (or tombstones) beside a log that holds no event: the log lost, or
 * another ledger's keys. Starting would make a new, empty ledger look like this one.
 */
export class MissingLog extends Error {
  constructor(readonly log: string) {
    super(
      `the key store holds keys but the log (${log}) holds no event: it is missing or not this ledger's. ` +
        'Restore it from its backup. Only for a new ledger: if its first append is under way (ledger demo), wait for ' +
        'it; if it was cut short, nothing was kept, and a new key store can be started in its place',
    );
    this.name = 'MissingLog';
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
  /** The master keys this process opens keys with: the configured one, and the next once a rotation bridges to it. */
  private readonly keyring = new Map<string, MasterKey>();
  /** The master key new keys are wrapped by. */
  private masterKey: MasterKey;
  /** The key ids keyById is waiting for, looked up at the end of this turn of the event loop. */
  private lookUps: { keyIds: Set<string>; found: Promise<FoundByKeyId> } | null = null;

  constructor(
    private readonly repository: KeyRepository,
    masterKey: MasterKey,
    options: KeyStoreOptions = {},
  ) {
    this.masterKey = masterKey;
    this.keyring.set(masterKey.id, masterKey);
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
    const configured = this.masterKey;
    const recorded = await this.repository.claimMasterKey(configured.id, this.now().toISOString());
    const rotation = await this.repository.rotation();
    const unfinished = rotation !== null && rotation.finishedAt === null;
    if (recorded === configured.id) {
      if (unfinished) throw new RotationUnfinished(rotation);
      // The first start on the next key: no process needs the bridge any more, and the old key must open nothing.
      if (rotation?.bridge) await this.repository.closeBridge();
      return;
    }
    // Still on the previous key while a rotation runs (a restart meanwhile): it bridges to the next.
    if (unfinished && rotation.from === configured.id && (await this.followRotation())) return;
    throw new WrongMasterKey(recorded, configured.id);
  }

  /**
   * Takes the next master key from the rotation's bridge, when this process holds the key it was
   * made by: new keys are wrapped by the next one from then on. Whether it is known now.
   */
  private async followRotation(): Promise<boolean> {
    const rotation = await this.repository.rotation();
    if (!rotation) return false;
    const next = this.keyring.get(rotation.to);
    if (next) {
      this.masterKey = next;
      return true;
    }
    const previous = this.keyring.get(rotation.from);
    if (!previous || !rotation.bridge) return false;
    this.masterKey = previous.openNext(rotation.bridge, rotation.to);
    this.keyring.set(this.masterKey.id, this.masterKey);
    return true;
  }

  /** Follows a rotation when some of these keys are wrapped by a master key this process does not hold yet. */
  private async knowMasterKeysOf(keys: readonly WrappedKey[]): Promise<void> {
    if (keys.some((key) => !this.keyring.has(key.masterKeyId))) await this.followRotation();
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
    const found = await this.openFound(await this.repository.findByScopes(misses));
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
    const stored = await this.insertWrapped([...generated.values()]);
    const theirs = stored.keys.filter((row) => !generated.has(row.keyId));
    const keys = await this.openFound({ keys: theirs, tombstones: stored.tombstones });
    for (const row of stored.keys) {
      const mine = generated.get(row.keyId);
      if (mine) keys.set(row.scope, this.cache(mine));
    }
    return keys;
  }

  /** Stores new keys wrapped by the current master key, following a rotation that switched it meanwhile. */
  private async insertWrapped(keys: readonly DataKey[]): Promise<{ keys: WrappedKey[]; tombstones: Tombstone[] }> {
    try {
      return await this.repository.insertMissing(keys.map((key) => this.wrap(key)));
    } catch (error) {
      if (!(error instanceof MasterKeyRotated) || !(await this.followRotation())) throw error;
      return this.repository.insertMissing(keys.map((key) => this.wrap(key)));
    }
  }

  /**
   * The key that opens a sealed part, or why it cannot: erased (shredded) or missing. Keys not
   * cached that are asked for in the same turn of the event loop (the streams of a batch's group,
   * the events of a view) are looked up together (see lookUp); each is unwrapped by its caller.
   */
  async keyById(keyId: string): Promise<KeyLookup> {
    const cached = this.byKeyId.get(keyId);
    if (cached) return { status: 'open', key: cached };
    const found = await this.lookUp(keyId);
    const key = found.keys.get(keyId);
    if (key) return { status: 'open', key: this.byKeyId.get(keyId) ?? this.openWrapped(key) };
    const tombstone = found.tombstones.get(keyId);
    return tombstone ? { status: 'erased', tombstone } : { status: 'missing' };
  }

  private lookUp(keyId: string): Promise<FoundByKeyId> {
    if (!this.lookUps) {
      const keyIds = new Set<string>();
      const found = new Promise((resolve) => setImmediate(resolve)).then(async () => {
        this.lookUps = null;
        const { keys, tombstones } = await this.repository.findByKeyIds([...keyIds]);
        await this.knowMasterKeysOf(keys);
        return {
          keys: new Map(keys.map((key) => [key.keyId, key])),
          tombstones: new Map(tombstones.map((tombstone) => [tombstone.keyId!, tombstone])),
        };
      });
      this.lookUps = { keyIds, found };
    }
    this.lookUps.keyIds.add(keyId);
    return this.lookUps.found;
  }

  /**
   * Loads the keys of many sealed parts in one look-up (a page of a rebuild), so opening them
   * costs no round trip each.
   */
  async prefetch(keyIds: Iterable<string>): Promise<void> {
    const misses = [...new Set(keyIds)].filter((keyId) => !this.byKeyId.has(keyId));
    if (misses.length === 0) return;
    const { keys } = await this.repository.findByKeyIds(misses);
    await this.knowMasterKeysOf(keys);
    for (const wrapped of keys) this.openWrapped(wrapped);
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

  /** The tombstones of these scopes (those destroyed), without opening any key: what an erasure certificate states. */
  async tombstonesOf(scopes: readonly string[]): Promise<Tombstone[]> {
    return (await this.repository.findByScopes(scopes)).tombstones;
  }

  /** Wipes the bytes of destroyed keys from the storage's files where a reader held them back (KeyRepository). */
  wipeShredded(): Promise<WipeOutcome> {
    return this.repository.wipeShredded();
  }

  /** Destroys the keys of the scopes (idempotent) and evicts them from the cache. */
  shred(scopes: readonly string[], cause: ShredCause): Promise<number> {
    return this.shredAll([{ scopes, cause }]);
  }

  /** Destroys the keys of many forgettings together, in one commit (idempotent), and evicts them from the cache. */
  async shredAll(shreds: readonly Shred[]): Promise<number> {
    for (const { scopes } of shreds) this.evict(scopes);
    const destroyed = shreds.length === 0 ? 0 : await this.repository.shred(shreds, this.now().toISOString());
    for (const { scopes } of shreds) this.evict(scopes);
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

  private async openFound({ keys, tombstones }: { keys: WrappedKey[]; tombstones: Tombstone[] }) {
    const fenced = tombstones[0];
    if (fenced) throw new Forgotten(fenced.scope, fenced.eventId);
    await this.knowMasterKeysOf(keys);
    return new Map(keys.map((wrapped) => [wrapped.scope, this.openWrapped(wrapped)]));
  }

  private openWrapped(wrapped: WrappedKey): DataKey {
    const masterKey = this.keyring.get(wrapped.masterKeyId);
    if (!masterKey) {
      throw new IntegrityError(
        `key ${wrapped.keyId} is wrapped by master key ${wrapped.masterKeyId}, not the configured one ` +
          '(after a rotation, restart on the new master key)',
      );
    }
    let key: Buffer;
    try {
      key = masterKey.unwrap(wrapped.wrapped, wrapped.scope, wrapped.keyId);
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
