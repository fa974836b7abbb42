import { expect } from 'chai';
import { KeyStore, RotationUnfinished, WrongMasterKey } from '../../src/crypto/key-store.js';
import { rotateMasterKey } from '../../src/app/rotate-master-key.js';
import { MasterKey } from '../../src/crypto/master-key.js';
import type { KeyRepository } from '../../src/crypto/key-repository.js';
import { Forgotten, IntegrityError } from '../../src/domain/errors.js';

export interface KeyRepositoryHandle {
  repository: KeyRepository;
  /** A second repository on the same storage, as another process would open it. */
  openAnother(): Promise<KeyRepository>;
  dispose(): Promise<void>;
}

/** The key store's behaviour over every key repository backend. */
export function describeKeyStoreContract(name: string, open: () => Promise<KeyRepositoryHandle>) {
  describe(`KeyStore contract: ${name}`, () => {
    let handle: KeyRepositoryHandle;
    let master: MasterKey;
    let keys: KeyStore;
    beforeEach(async () => {
      handle = await open();
      master = MasterKey.generate();
      keys = new KeyStore(handle.repository, master);
    });
    afterEach(() => handle.dispose());

    it(
      'concurrent creators of overlapping scopes, listed in ' + 'opposite orders, both succeed and agree on every key',
      async () => {
        const other = new KeyStore(await handle.openAnother(), master);
        for (let round = 0; round < 10; round++) {
          const scopes = Array.from({ length: 50 }, (_, i) => `order:R${round}-${i}`);
          const [mine, theirs] = await Promise.all([keys.keysFor(scopes), other.keysFor([...scopes].reverse())]);
          for (const scope of scopes) expect(mine.get(scope)!.key.equals(theirs.get(scope)!.key), scope).to.equal(true);
        }
      },
    );

    it('creates one random key per scope on first use and returns the same key afterwards', async () => {
      const first = await keys.keysFor(['contact:C-1', 'order:O-1']);
      expect(first.get('contact:C-1')?.key).to.have.length(32);
      expect(first.get('contact:C-1')?.key.equals(first.get('order:O-1')!.key)).to.equal(false);
      const again = new KeyStore(await handle.openAnother(), master);
      const reread = await again.keysFor(['contact:C-1']);
      expect(reread.get('contact:C-1')?.key.equals(first.get('contact:C-1')!.key)).to.equal(true);
      expect(reread.get('contact:C-1')?.keyId).to.equal(first.get('contact:C-1')?.keyId);
      const byId = await again.keyById(first.get('order:O-1')!.keyId);
      expect(byId.status).to.equal('open');
    });

    it('stores keys wrapped: the repository never holds the data key in clear', async () => {
      const key = (await keys.keysFor(['contact:C-1'])).get('contact:C-1')!;
      const { keys: rows } = await handle.repository.findByScopes(['contact:C-1']);
      expect(rows[0]?.wrapped.includes(key.key)).to.equal(false);
      expect(rows[0]?.masterKeyId).to.equal(master.id);
    });

    it('concurrent creators of the same scope end with one key', async () => {
      const other = new KeyStore(await handle.openAnother(), master);
      const [a, b] = await Promise.all([keys.keysFor(['contact:C-9']), other.keysFor(['contact:C-9'])]);
      expect(a.get('contact:C-9')?.keyId).to.equal(b.get('contact:C-9')?.keyId);
    });

    it('shreds: the key is gone, a tombstone tells erased from missing, the cache is evicted', async () => {
      const key = (await keys.keysFor(['contact:C-1'])).get('contact:C-1')!;
      expect(await keys.shred(['contact:C-1'], { reason: 'ContactAnonymized', eventId: 'ev-1' })).to.equal(1);
      const lookup = await keys.keyById(key.keyId);
      expect(lookup.status).to.equal('erased');
      expect(lookup.status === 'erased' && lookup.tombstone).to.include({
        scope: 'contact:C-1',
        keyId: key.keyId,
        eventId: 'ev-1',
      });
      expect((await keys.keyById('never-existed')).status).to.equal('missing');
      expect(await keys.shred(['contact:C-1'], { reason: 'ContactAnonymized', eventId: 'ev-1' })).to.equal(0);
    });

    it('shreds many forgettings in one commit: each scope tombstoned with the first cause naming it', async () => {
      const created = await keys.keysFor(['contact:M-1', 'order:M-1', 'contact:M-2']);
      const commits: number[] = [];
      const shred = handle.repository.shred.bind(handle.repository);
      handle.repository.shred = (shreds, at) => (commits.push(shreds.length), shred(shreds, at));
      const destroyed = await keys.shredAll([
        { scopes: ['contact:M-1', 'order:M-1'], cause: { reason: 'ContactErased', eventId: 'ev-m1' } },
        { scopes: ['order:M-1', 'contact:M-2'], cause: { reason: 'OrderDataPurged', eventId: 'ev-m2' } },
        { scopes: ['contact:M-never'], cause: { reason: 'ContactErased', eventId: 'ev-m3' } },
      ]);
      expect(destroyed).to.equal(3);
      expect(commits).to.deep.equal([3]);
      const { keys: left, tombstones } = await handle.repository.findByScopes([...created.keys(), 'contact:M-never']);
      expect(left).to.deep.equal([]);
      const causes = Object.fromEntries(tombstones.map((t) => [t.scope, t.eventId]));
      expect(causes).to.deep.equal({
        'contact:M-1': 'ev-m1',
        'order:M-1': 'ev-m1',
        'contact:M-2': 'ev-m2',
        'contact:M-never': 'ev-m3',
      });
      expect((await keys.keyById(created.get('order:M-1')!.keyId)).status).to.equal('erased');
      expect(
        await keys.shredAll([{ scopes: ['contact:M-1'], cause: { reason: 'ContactErased', eventId: 'x' } }]),
      ).to.equal(0);
    });

    it('key look-ups asked together share one query, each answered on its own: open, erased, missing', async () => {
      const created = await keys.keysFor(['contact:C-1', 'contact:C-2', 'order:O-1']);
      await keys.shred(['contact:C-2'], { reason: 'ContactErased', eventId: 'ev-2' });
      const cold = new KeyStore(handle.repository, master); // nothing cached
      const asked: string[][] = [];
      const findByKeyIds = handle.repository.findByKeyIds.bind(handle.repository);
      handle.repository.findByKeyIds = (keyIds) => (asked.push([...keyIds]), findByKeyIds(keyIds));
      const idOf = (scope: string) => created.get(scope)!.keyId;
      const [one, erased, order, missing] = await Promise.all([
        cold.keyById(idOf('contact:C-1')),
        cold.keyById(idOf('contact:C-2')),
        cold.keyById(idOf('order:O-1')),
        cold.keyById('never-existed'),
      ]);
      expect(asked).to.have.length(1);
      expect(one.status === 'open' && one.key.key.equals(created.get('contact:C-1')!.key)).to.equal(true);
      expect(erased.status === 'erased' && erased.tombstone.eventId).to.equal('ev-2');
      expect(order.status === 'open' && order.key.scope).to.equal('order:O-1');
      expect(missing.status).to.equal('missing');
    });

    it('fences a shredded scope: no new key, a Forgotten error naming the forgetting event', async () => {
      await keys.keysFor(['order:O-1']);
      await keys.shred(['order:O-1'], { reason: 'OrderDataPurged', eventId: 'ev-7' });
      let error: unknown;
      await keys.keysFor(['order:O-1']).catch((e) => (error = e));
      expect(error).to.be.instanceOf(Forgotten);
      expect((error as Forgotten).details).to.include({ scope: 'order:O-1', forgottenBy: 'ev-7' });
      // A scope never keyed can be forgotten too (the log said so): it never gets a key.
      await keys.shred(['contact:never-keyed'], { reason: 'ContactErased', eventId: 'ev-8' });
      await keys.keysFor(['contact:never-keyed']).catch((e) => (error = e));
      expect((error as Forgotten).details).to.include({ forgottenBy: 'ev-8' });
    });

    it('another process shredding is seen once the cache is evicted', async () => {
      const key = (await keys.keysFor(['contact:C-1'])).get('contact:C-1')!;
      const other = new KeyStore(await handle.openAnother(), master);
      await other.shred(['contact:C-1'], { reason: 'ContactAnonymized', eventId: 'ev-2' });
      expect((await keys.keyById(key.keyId)).status).to.equal('open'); // still cached here
      keys.evict(['contact:C-1']);
      expect((await keys.keyById(key.keyId)).status).to.equal('erased');
    });

    it('refuses keys wrapped by another master key with a clear error', async () => {
      await keys.keysFor(['contact:C-1']);
      const wrongMaster = new KeyStore(await handle.openAnother(), MasterKey.generate());
      let error: unknown;
      await wrongMaster.keysFor(['contact:C-1']).catch((e) => (error = e));
      expect(error).to.be.instanceOf(IntegrityError);
    });

    describe('master-key rotation', () => {
      /** Opens the key store as a start does: the configured master key is checked first. */
      const started = async (masterKey: MasterKey) => {
        const store = new KeyStore(await handle.openAnother(), masterKey);
        await store.checkMasterKey();
        return store;
      };

      it('re-wraps every key, shredded ones stay shredded, and afterwards only the new key opens them', async () => {
        await keys.checkMasterKey();
        const scopes = Array.from({ length: 2_500 }, (_, i) => `contact:R-${i}`);
        const before = await keys.keysFor(scopes);
        await keys.shred(['contact:R-7'], { reason: 'ContactAnonymized', eventId: 'ev-r7' });
        const next = MasterKey.generate();
        const seen: number[] = [];
        const report = await rotateMasterKey(handle.repository, master, next, {
          onProgress: (done, total) => seen.push(done, total),
        });
        expect(report).to.deep.equal({ from: master.id, to: next.id, rewrapped: 2_499, resumed: false });
        expect(seen.slice(-2)).to.deep.equal([2_499, 2_499]);
        expect(await handle.repository.countWrappedBy(master.id)).to.equal(0);

        const onNext = await started(next);
        expect((await handle.repository.rotation())?.bridge).to.equal(null);
        const after = await onNext.keysFor(scopes.filter((scope) => scope !== 'contact:R-7'));
        for (const [scope, key] of after) expect(key.key.equals(before.get(scope)!.key), scope).to.equal(true);
        expect((await onNext.keyById(before.get('contact:R-7')!.keyId)).status).to.equal('erased');
        const refused = await started(master).catch((error: unknown) => error);
        expect(refused).to.be.instanceOf(WrongMasterKey);
      });

      it('a process on the old key follows a rotation under way; a start on the new key waits', async () => {
        await keys.checkMasterKey();
        const old = (await keys.keysFor(['contact:S-1', 'contact:S-2'])).get('contact:S-1')!;
        const next = MasterKey.generate();
        // Cut off after its first batch: one of the two keys re-wrapped, the other not.
        const cutOff = await rotateMasterKey(handle.repository, master, next, {
          batchSize: 1,
          onProgress: () => {
            throw new Error('cut off');
          },
        }).catch((error: Error) => error);
        expect(cutOff).to.have.property('message', 'cut off');
        expect(await handle.repository.countWrappedBy(master.id)).to.equal(1);

        // Still running on the old key: it opens re-wrapped keys and wraps new ones by the next key.
        const running = new KeyStore(await handle.openAnother(), master);
        expect((await running.keyById(old.keyId)).status).to.equal('open');
        const created = (await running.keysFor(['contact:S-3'])).get('contact:S-3')!;
        const { keys: rows } = await handle.repository.findByKeyIds([created.keyId]);
        expect(rows[0]?.masterKeyId).to.equal(next.id);
        // A restart on the old key meanwhile is allowed; one on the new key is not yet.
        await started(master);
        expect(await started(next).catch((error: unknown) => error)).to.be.instanceOf(RotationUnfinished);

        const resumed = await rotateMasterKey(handle.repository, master, next);
        expect(resumed).to.include({ resumed: true, rewrapped: 1 });
        const onNext = await started(next);
        const all = await onNext.keysFor(['contact:S-1', 'contact:S-2', 'contact:S-3']);
        expect(all.get('contact:S-1')!.key.equals(old.key)).to.equal(true);
        expect(all.get('contact:S-3')!.key.equals(created.key)).to.equal(true);
      });

      it('offline: no bridge stored, a process on the old key cannot follow; run again: a no-op', async () => {
        await keys.checkMasterKey();
        await keys.keysFor(['contact:U-1']);
        const next = MasterKey.generate();
        const running = new KeyStore(await handle.openAnother(), master);
        await running.keysFor(['contact:U-2']);
        expect(await rotateMasterKey(handle.repository, master, next, { online: false })).to.include({ rewrapped: 2 });
        expect((await handle.repository.rotation())?.bridge).to.equal(null);
        const refused = await running.keysFor(['contact:U-3']).catch((error: Error) => error);
        expect(refused).to.have.property('name', 'MasterKeyRotated');
        expect(await rotateMasterKey(handle.repository, master, next)).to.deep.equal({
          from: master.id,
          to: next.id,
          rewrapped: 0,
          resumed: true,
        });
        expect((await (await started(next)).keysFor(['contact:U-1', 'contact:U-3'])).size).to.equal(2);
      });

      it('refuses a second rotation to another key while one is under way, and the new key being the old', async () => {
        await keys.checkMasterKey();
        await keys.keysFor(['contact:T-1', 'contact:T-2']);
        const next = MasterKey.generate();
        await rotateMasterKey(handle.repository, master, next, {
          batchSize: 1,
          onProgress: () => {
            throw new Error('cut off');
          },
        }).catch(() => {});
        const other = await rotateMasterKey(handle.repository, master, MasterKey.generate()).catch(
          (error: Error) => error,
        );
        expect(other)
          .to.have.property('message')
          .that.matches(/under way: finish it first/);
        const same = await rotateMasterKey(handle.repository, next, next).catch((error: Error) => error);
        expect(same)
          .to.have.property('message')
          .that.matches(/is the current one/);
      });
    });
  });
}
