import { expect } from 'chai';
import Database from 'better-sqlite3';
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

  it("a reader holding the WAL keeps a shred's bytes there, held back; a later wipe clears them", async () => {
    const { dir, path } = tempKeysDb();
    const repository = new SqliteKeyRepository(path);
    const keys = new KeyStore(repository, MasterKey.generate());
    const scopes = Array.from({ length: 20 }, (_, i) => `contact:C-${i}`);
    await keys.keysFor(scopes);
    const { keys: rows } = await repository.findByScopes(scopes.slice(0, 5));
    const left = () => rows.filter((row) => fileBytes(path).includes(row.wrapped.subarray(28))).length;
    const reader = new Database(path);
    reader.exec('BEGIN');
    reader.prepare('SELECT count(*) FROM keys').get();
    expect(await keys.shred(scopes.slice(0, 5), { reason: 'ContactAnonymized', eventId: 'ev' })).to.equal(5);
    expect(left()).to.equal(5);
    expect(await repository.wipeShredded()).to.equal('heldBack');
    reader.exec('COMMIT');
    reader.close();
    expect(await repository.wipeShredded()).to.equal('wiped');
    expect(left()).to.equal(0);
    await repository.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a reader holding the WAL keeps a rotation unfinished, never reported wiped; run again after, it is', async () => {
    const { dir, path } = tempKeysDb();
    const repository = new SqliteKeyRepository(path, { wipeTries: 1 });
    const old = MasterKey.generate();
    const keys = new KeyStore(repository, old);
    await keys.checkMasterKey();
    await keys.keysFor(Array.from({ length: 20 }, (_, i) => `contact:C-${i}`));
    const { keys: rows } = await repository.findByScopes(['contact:C-1', 'contact:C-2']);
    // A backup's VACUUM INTO, or a long read, on another connection.
    const reader = new Database(path);
    reader.exec('BEGIN');
    reader.prepare('SELECT count(*) FROM keys').get();
    const next = MasterKey.generate();
    const held = await rotateMasterKey(repository, old, next).catch((error: Error) => error);
    expect(held)
      .to.have.property('message')
      .that.matches(/held back the wipe/);
    expect((await repository.rotation())?.finishedAt).to.equal(null);
    reader.exec('COMMIT');
    reader.close();
    expect(await rotateMasterKey(repository, old, next)).to.include({ resumed: true });
    expect((await repository.rotation())?.finishedAt).to.be.a('string');
    expect(rows.filter((row) => fileBytes(path).includes(row.wrapped.subarray(28)))).to.deep.equal([]);
    await repository.close();
    rmSync(dir, { recursive: true, force: true });
  });
});
