import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteKeyRepository } from '../../src/crypto/sqlite-key-repository.js';
import { KeyStore } from '../../src/crypto/key-store.js';
import { MasterKey } from '../../src/crypto/master-key.js';
import { describeKeyStoreContract } from './key-store.contract.js';
import { rotateMasterKey } from '../../src/app/rotate-master-key.js';

function tempKeysDb() {
  const dir = mkdtempSync(join(tmpdir(), 'ledger-keys-'));
  return { dir, path: join(dir, 'keys.db') };
}

describeKeyStoreContract('sqlite keys.db', async () => {
  const { dir, path } = tempKeysDb();
  const opened: SqliteKeyRepository[] = [];
  const openOne = () => {
    const repository = new SqliteKeyRepository(path);
    opened.push(repository);
    return repository;
  };
  return {
    repository: openOne(),
    openAnother: async () => openOne(),
    dispose: async () => {
      for (const repository of opened) await repository.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

/** keys.db and its WAL, as bytes. */
const fileBytes = (path: string) =>
  Buffer.concat(
    ['', '-wal'].map((suffix) => (existsSync(path + suffix) ? readFileSync(path + suffix) : Buffer.alloc(0))),
  );

describe('sqlite keys.db physical shredding', () => {
  it('leaves no byte of a destroyed wrapped key in keys.db or its WAL', async () => {
    const { dir, path } = tempKeysDb();
    const repository = new SqliteKeyRepository(path);
    const keys = new KeyStore(repository, MasterKey.generate());
    const scopes = Array.from({ length: 50 }, (_, i) => `contact:C-${i}`);
    await keys.keysFor(scopes);
    const { keys: rows } = await repository.findByScopes(scopes.slice(0, 10));
    expect(rows.every((row) => fileBytes(path).includes(row.wrapped))).to.equal(true);
    await keys.shred(scopes.slice(0, 10), { reason: 'ContactAnonymized', eventId: 'ev' });
    const after = fileBytes(path);
    expect(rows.filter((row) => after.includes(row.wrapped))).to.deep.equal([]);
    expect(rows.filter((row) => after.includes(row.wrapped.subarray(28)))).to.deep.equal([]);
    await repository.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('leaves no wrapping by the old master key in keys.db or its WAL after a rotation', async () => {
    const { dir, path } = tempKeysDb();
    const repository = new SqliteKeyRepository(path);
    const old = MasterKey.generate();
    const keys = new KeyStore(repository, old);
    await keys.checkMasterKey();
    const scopes = Array.from({ length: 50 }, (_, i) => `contact:C-${i}`);
    await keys.keysFor(scopes);
    const { keys: rows } = await repository.findByScopes(scopes);
    await rotateMasterKey(repository, old, MasterKey.generate());
    const after = fileBytes(path);
    expect(rows.filter((row) => after.includes(row.wrapped.subarray(28)))).to.deep.equal([]);
    await repository.close();
    rmSync(dir, { recursive: true, force: true });
  });
});
