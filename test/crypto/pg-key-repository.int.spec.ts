import { expect } from 'chai';
import { PgKeyRepository } from '../../src/postgres/pg-key-repository.js';
import { KeyStore } from '../../src/crypto/key-store.js';
import { MasterKey } from '../../src/crypto/master-key.js';
import { testDatabase } from '../support/postgres.js';
import { describeKeyStoreContract } from './key-store.contract.js';

describeKeyStoreContract('postgres (own schema)', async () => {
  const database = testDatabase();
  const schema = database.schema();
  const repository = await PgKeyRepository.open(database.pool, schema);
  const others: PgKeyRepository[] = [];
  return {
    repository,
    openAnother: async () => {
      const other = await PgKeyRepository.open(database.pool, schema);
      others.push(other);
      return other;
    },
    dispose: async () => {
      for (const one of [repository, ...others]) await one.close();
      await database.dispose();
    },
  };
});

describe('postgres keys physical shredding', () => {
  it('leaves no byte of a destroyed wrapped key in any page of the keys table', async () => {
    const database = testDatabase();
    const schema = database.schema();
    try {
      const repository = await PgKeyRepository.open(database.pool, schema);
      // pageinspect reads raw pages; installed into the test schema, dropped with it.
      const {
        rows: [installed],
      } = await database.pool.query<{ schema: string }>(
        "SELECT extnamespace::regnamespace::text AS schema FROM pg_extension WHERE extname = 'pageinspect'",
      );
      if (!installed) await database.pool.query(`CREATE EXTENSION pageinspect SCHEMA "${schema}"`);
      const functions = installed?.schema ?? `"${schema}"`;
      const tablePages = async () => {
        const { rows } = await database.pool.query<{ page: Buffer }>(
          `SELECT ${functions}.get_raw_page('"${schema}".scope_keys', 'main', n::int) AS page
           FROM generate_series(0,
             pg_relation_size('"${schema}".scope_keys') / current_setting('block_size')::int - 1) AS n`,
        );
        return Buffer.concat(rows.map((row) => row.page));
      };
      const keys = new KeyStore(repository, MasterKey.generate());
      const scopes = Array.from({ length: 50 }, (_, i) => `contact:C-${i}`);
      await keys.keysFor(scopes);
      const { keys: forgotten } = await repository.findByScopes(scopes.slice(0, 10));
      const { keys: kept } = await repository.findByScopes(scopes.slice(10));
      const before = await tablePages();
      expect(forgotten.every((row) => before.includes(row.wrapped))).to.equal(true);

      expect(await keys.shred(scopes.slice(0, 10), { reason: 'ContactAnonymized', eventId: 'ev' })).to.equal(10);
      const after = await tablePages();
      expect(forgotten.filter((row) => after.includes(row.wrapped.subarray(0, 16)))).to.deep.equal([]);
      expect(kept.every((row) => after.includes(row.wrapped))).to.equal(true);
      const { tombstones } = await repository.findByScopes(scopes.slice(0, 10));
      expect(tombstones.map((t) => t.scope).sort()).to.deep.equal(scopes.slice(0, 10).sort());
      await repository.close();
    } finally {
      await database.dispose();
    }
  });
});
