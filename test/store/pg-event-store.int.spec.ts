import { PgEventStore } from '../../src/postgres/pg-event-store.js';
import { TEST_DATABASE_URL, testDatabase } from '../support/postgres.js';
import { describeEventStoreContract } from './event-store.contract.js';
import { LEDGER_EVENT_INDEXES } from '../../src/store/ledger-event-indexes.js';

describeEventStoreContract('postgres (tables in a schema, LISTEN/NOTIFY)', async () => {
  const database = testDatabase();
  const schema = database.schema();
  const open = () =>
    PgEventStore.open(database.pool, {
      connection: TEST_DATABASE_URL,
      schema,
      pollMs: 60_000,
      indexes: LEDGER_EVENT_INDEXES,
    });
  const store = await open();
  const others: PgEventStore[] = [];
  return {
    store,
    openAnother: async () => {
      const other = await open();
      others.push(other);
      return other;
    },
    dispose: async () => {
      for (const one of [store, ...others]) await one.close();
      await database.dispose();
    },
  };
});
