import { join } from 'node:path';
import { FORGETTING_TYPES } from '../domain/catalog.js';
import { SqliteKeyRepository } from '../crypto/sqlite-key-repository.js';
import { SqliteEventStore } from '../store/sqlite-event-store.js';
import type { LogAndKeys } from './backends.js';

/** events.db and keys.db of the data directory. */
export function openSqliteLog(
  dataDir: string,
  options: { pageCacheMb?: number } = {},
): LogAndKeys & { store: SqliteEventStore } {
  const store = new SqliteEventStore(join(dataDir, 'events.db'), { indexedTypes: FORGETTING_TYPES, ...options });
  const keys = new SqliteKeyRepository(join(dataDir, 'keys.db'), options);
  return {
    store,
    keys,
    close: async () => {
      await store.close();
      await keys.close();
    },
  };
}
