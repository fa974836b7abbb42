import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteEventStore } from '../../src/store/sqlite-event-store.js';
import { describeEventStoreContract } from './event-store.contract.js';

describeEventStoreContract('sqlite (file on disk, WAL)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ledger-store-'));
  const store = new SqliteEventStore(join(dir, 'events.db'));
  return {
    store,
    dispose: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
