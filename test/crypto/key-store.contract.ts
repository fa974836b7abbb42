import { expect } from 'chai';
import { KeyStore } from '../../src/crypto/key-store.js';
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
  });
}
