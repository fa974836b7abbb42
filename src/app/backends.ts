import { join } from 'node:path';
import type { LedgerConfig } from '../config.js';
import { FORGETTING_TYPES } from '../domain/catalog.js';
import type { KeyRepository } from '../crypto/key-repository.js';
import type { EventStore } from '../store/event-store.js';
import type { ReadModelStore } from '../projections/read-model-store.js';
import { SqliteReadModelStore } from '../projections/sqlite-read-model-store.js';
import { openPool } from '../postgres/database.js';
import { PgEventStore } from '../postgres/pg-event-store.js';
import { PgKeyRepository } from '../postgres/pg-key-repository.js';
import { PgReadModelStore } from '../postgres/pg-read-model-store.js';
import { openSqliteLog } from './sqlite-log.js';

/** The log and the keys that seal its personal data. */
export interface LogAndKeys {
  store: EventStore;
  keys: KeyRepository;
  close(): Promise<void>;
}

/** The three storages the ledger runs on, for the configured LEDGER_STORE. */
export interface Backend extends LogAndKeys {
  readModels: ReadModelStore;
}

/**
 * sqlite: events.db, keys.db and state.db in the data directory. postgres: events and read
 * models in LEDGER_DATABASE_SCHEMA, keys in LEDGER_KEYS_SCHEMA (of LEDGER_KEYS_DATABASE_URL).
 * eventstoredb: the events in EventStoreDB, keys and read models in PostgreSQL as above.
 */
export async function openBackend(config: LedgerConfig): Promise<Backend> {
  if (config.store === 'sqlite') {
    const log = openSqliteLog(config.dataDir);
    const readModels = new SqliteReadModelStore(join(config.dataDir, 'state.db'));
    return {
      ...log,
      readModels,
      close: async () => {
        await log.close();
        await readModels.close();
      },
    };
  }
  const databaseUrl = config.databaseUrl!;
  const pool = openPool(databaseUrl);
  const keysPool =
    config.keysDatabaseUrl && config.keysDatabaseUrl !== databaseUrl ? openPool(config.keysDatabaseUrl) : pool;
  const endPools = () => Promise.all([...new Set([pool, keysPool])].map((one) => one.end()));
  try {
    const store =
      config.store === 'postgres'
        ? await PgEventStore.open(pool, {
            connectionString: databaseUrl,
            schema: config.databaseSchema,
            indexedTypes: FORGETTING_TYPES,
          })
        : await (
            await import('../eventstoredb/esdb-event-store.js')
          ).EsdbEventStore.open(config.esdbConnectionString!, { streamPrefix: config.esdbStreamPrefix });
    const keys = await PgKeyRepository.open(keysPool, config.keysSchema);
    const readModels = await PgReadModelStore.open(pool, config.databaseSchema);
    return {
      store,
      keys,
      readModels,
      close: async () => {
        await store.close();
        await keys.close();
        await endPools();
      },
    };
  } catch (error) {
    await endPools();
    throw error;
  }
}
