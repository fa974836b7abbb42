import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteEventStore } from '../../src/store/sqlite-event-store.js';
import { describeEventStoreContract } from './event-store.contract.js';

describeEventStoreContract('sqlite (file on disk, WAL)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ledger-store-'));
  const store = new SqliteEventStore(join(dir, 'events.db'), { pollMs: 20 });
  const others: SqliteEventStore[] = [];
  return {
    store,
    openAnother: async () => {
      const other = new SqliteEventStore(join(dir, 'events.db'), { pollMs: 20 });
      others.push(other);
      return other;
    },
    dispose: async () => {
      for (const one of [store, ...others]) await one.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
