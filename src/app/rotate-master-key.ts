import type { KeyRepository, WrappedKey } from '../crypto/key-repository.js';
import { WrongMasterKey } from '../crypto/key-store.js';
import type { MasterKey } from '../crypto/master-key.js';

export interface RotationReport {
  from: string;
  to: string;
  /** Keys wrapped again by this run (a resumed run counts only its own). */
  rewrapped: number;
  /** Whether this run resumed a rotation an earlier one began. */
  resumed: boolean;
}

export interface RotationOptions {
  now?: () => Date;
  /** Keys re-wrapped per transaction. */
  batchSize?: number;
  /**
   * false: no bridge (the next key wrapped by the current one) in the key database, so no copy of
   * it (a backup, a PostgreSQL WAL archive) lets the current key derive the next; running
   * processes cannot follow, so the ledger is stopped first. What a leaked key calls for.
   */
  online?: boolean;
  onProgress?: (done: number, total: number) => void;
}

/**
 * Re-wraps every data key from the current master key to the next one, while the ledger runs.
 * The switch comes first (every key created from then on is wrapped by the next key, and the
 * bridge lets running processes follow), then one pass in key id order re-wraps the rest, each
 * batch only where a key is still wrapped by the current one. Every step is idempotent: a run
 * cut off anywhere is resumed by running it again with the same two keys.
 */
export async function rotateMasterKey(
  repository: KeyRepository,
  current: MasterKey,
  next: MasterKey,
  { now = () => new Date(), batchSize = 1000, onProgress = () => {}, online = true }: RotationOptions = {},
): Promise<RotationReport> {
  if (next.id === current.id) throw new Error(`the new master key is the current one (${current.id})`);
  const resumed = await begin(repository, current, next, now, online);
  if (resumed === 'finished') return { from: current.id, to: next.id, rewrapped: 0, resumed: true };
  const total = await repository.countWrappedBy(current.id);
  let rewrapped = 0;
  let after = '';
  for (;;) {
    const page = await repository.keysWrappedBy(current.id, after, batchSize);
    if (page.length === 0) break;
    rewrapped += await repository.rewrap(
      page.map((key) => wrappedByNext(key, current, next)),
      current.id,
    );
    after = page.at(-1)!.keyId;
    onProgress(Math.min(rewrapped, total), total);
  }
  // Keys inserted after the switch are wrapped by the next key: none can be left behind the pass.
  const left = await repository.countWrappedBy(current.id);
  if (left > 0) throw new Error(`${left} keys are still wrapped by ${current.id}: run the rotation again`);
  await repository.finishRotation(now().toISOString());
  return { from: current.id, to: next.id, rewrapped, resumed };
}

/**
 * Begins the rotation, or finds it begun by an earlier run with the same keys: whether it resumes
 * (`finished`: an earlier run ended it; the wipe is done before a rotation is marked finished).
 */
async function begin(
  repository: KeyRepository,
  current: MasterKey,
  next: MasterKey,
  now: () => Date,
  online: boolean,
): Promise<boolean | 'finished'> {
  const rotation = await repository.rotation();
  const same = rotation?.from === current.id && rotation.to === next.id;
  if (same && rotation.finishedAt !== null) return 'finished';
  if (rotation !== null && rotation.finishedAt === null) {
    if (same) return true;
    throw new Error(
      `a rotation of the master key from ${rotation.from} to ${rotation.to} is under way: ` +
        'finish it first, with those two keys',
    );
  }
  const recorded = await repository.claimMasterKey(current.id, now().toISOString());
  if (recorded !== current.id) throw new WrongMasterKey(recorded, current.id);
  await repository.beginRotation({
    from: current.id,
    to: next.id,
    bridge: online ? current.wrapNext(next) : null,
    at: now().toISOString(),
  });
  return false;
}

function wrappedByNext(key: WrappedKey, current: MasterKey, next: MasterKey): WrappedKey {
  const dataKey = current.unwrap(key.wrapped, key.scope, key.keyId);
  return { ...key, masterKeyId: next.id, wrapped: next.wrap(dataKey, key.scope, key.keyId) };
}
