import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteReadModelStore } from '../../src/projections/sqlite-read-model-store.js';
import { describeReadModelStoreContract } from './read-model-store.contract.js';

describeReadModelStoreContract('sqlite state.db (file on disk, WAL)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ledger-state-'));
  const path = join(dir, 'state.db');
  const opened = [new SqliteReadModelStore(path)];
  return {
    store: opened[0]!,
    openAnother: async () => {
      const other = new SqliteReadModelStore(path);
      opened.push(other);
      return other;
    },
    dispose: async () => {
      for (const store of opened) await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
