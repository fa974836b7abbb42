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
