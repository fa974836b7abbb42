import { workerData } from 'node:worker_threads';
import { GroupCommit, settle } from '../store/group-commit.js';
import { serveCalls } from '../worker-thread.js';
import type { WrappedKey } from './key-repository.js';
import { asBuffer, KeysDbLookUps, openKeysDb, walTruncated } from './keys-db.js';
import type { InsertAnswer, KeyWriterCall } from './sqlite-key-repository.js';

/**
 * The keys.db writer thread (see SqliteKeyRepository): its fsyncs never block the thread that
 * serves requests. Key creations that arrive while a group commits share the next commit.
 */
const db = openKeysDb((workerData as { path: string }).path, 4);
const lookUps = new KeysDbLookUps(db);
const statements = {
  insert: db.prepare(
    `INSERT INTO keys (scope, key_id, master_key_id, wrapped, created_at)
     SELECT @scope, @keyId, @masterKeyId, @wrapped, @createdAt
     WHERE NOT EXISTS (SELECT 1 FROM tombstones WHERE scope = @scope)
     ON CONFLICT (scope) DO NOTHING`,
  ),
  currentMasterKey: db.prepare<[], string>('SELECT id FROM master_key').pluck(),
  keyIdOf: db.prepare<[string], string>('SELECT key_id FROM keys WHERE scope = ?').pluck(),
  delete: db.prepare('DELETE FROM keys WHERE scope = ?'),
  tombstone: db.prepare(
    `INSERT INTO tombstones (scope, key_id, shredded_at, reason, event_id) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (scope) DO NOTHING`,
  ),
};

const insertGroup = db.transaction((calls: Array<readonly WrappedKey[]>) =>
  calls.map((keys) =>
    settle((): InsertAnswer => {
      // Read in the write transaction: a rotation's switch commits either before (seen) or after it.
      const current = statements.currentMasterKey.get();
      const stale = keys.find((key) => current !== undefined && key.masterKeyId !== current);
      if (stale) return { rotatedTo: current! };
      const lost: string[] = [];
      for (const key of keys) {
        if (statements.insert.run({ ...key, wrapped: asBuffer(key.wrapped) }).changes === 0) lost.push(key.scope);
      }
      const won = keys.filter((key) => !lost.includes(key.scope));
      // Only a scope another creator keyed first, or one forgotten meanwhile, is read back.
      const others = lost.length > 0 ? lookUps.byScopes(lost) : { keys: [], tombstones: [] };
      return { keys: [...won, ...others.keys], tombstones: others.tombstones };
    }),
  ),
);
const inserter = new GroupCommit<readonly WrappedKey[], InsertAnswer>((calls) => insertGroup.immediate(calls));

type ShredCall = Extract<KeyWriterCall, { shred: unknown }>['shred'];

/** One call's shreds: a savepoint, so that a call that fails leaves nothing of it in the group's commit. */
const shredCall = db.transaction(({ shreds, at }: ShredCall) => {
  let count = 0;
  for (const { scopes, cause } of shreds) {
    for (const scope of scopes) {
      const keyId = statements.keyIdOf.get(scope);
      count += statements.delete.run(scope).changes;
      statements.tombstone.run(scope, keyId ?? null, at, cause.reason, cause.eventId);
    }
  }
  return count;
});
const shredGroup = db.transaction((calls: ShredCall[]) => calls.map((call) => settle(() => shredCall(call))));
/** Shreds that arrive while a group commits share the next commit, and its one WAL truncation. */
const shredder = new GroupCommit<ShredCall, number>((calls) => {
  const settled = shredGroup.immediate(calls);
  // The WAL still holds the page images with the deleted keys: copy back and truncate it.
  if (settled.some((one) => one.ok && one.value > 0)) walTruncated(db);
  return settled;
});

serveCalls<KeyWriterCall, unknown>(
  (call) => ('insert' in call ? inserter.submit(call.insert) : shredder.submit(call.shred)),
  () => db.close(),
);
