import { PgReadModelStore } from '../../src/postgres/pg-read-model-store.js';
import { testDatabase } from '../support/postgres.js';
import { describeReadModelStoreContract } from './read-model-store.contract.js';

describeReadModelStoreContract('postgres (own schema)', async () => {
  const database = testDatabase();
  const schema = database.schema();
  const store = await PgReadModelStore.open(database.pool, schema);
  return {
    store,
    openAnother: () => PgReadModelStore.open(database.pool, schema),
    dispose: () => database.dispose(),
  };
});
