import type { LedgerConfig } from '../../config.js';
import { connectionOptions, openPool } from '../../postgres/database.js';
import { PgEventStore } from '../../postgres/pg-event-store.js';
import { PgKeyRepository } from '../../postgres/pg-key-repository.js';
import { LEDGER_EVENT_INDEXES } from '../../store/ledger-event-indexes.js';
import type { KeyRepository } from '../../crypto/key-repository.js';
import type { EventStore } from '../../store/event-store.js';

/**
 * The bulk reader thread's wiring on a database server (LEDGER_STORE=postgres or eventstoredb):
 * the log and the keys, nothing else (no read model, no use case). A composition root of its own,
 * beside app/open-ledger.ts: the read models know no use case, and the thread opens what it reads.
 */
export async function openServerLog(
  config: LedgerConfig,
): Promise<{ store: EventStore; keys: KeyRepository; close(): Promise<void> }> {
  const databaseUrl = config.databaseUrl!;
  const { databaseTimeoutMs } = config;
  // Two connections: the pages, and the keys the e-mails are opened with.
  const pool = openPool(databaseUrl, config.databaseApplicationName, databaseTimeoutMs, 2);
  const keysPool =
    config.keysDatabaseUrl && config.keysDatabaseUrl !== databaseUrl
      ? openPool(config.keysDatabaseUrl, config.databaseApplicationName, databaseTimeoutMs, 1)
      : pool;
  const endPools = () => Promise.all([...new Set([pool, keysPool])].map((one) => one.end()));
  try {
    const store =
      config.store === 'postgres'
        ? await PgEventStore.open(pool, {
            connection: connectionOptions(databaseUrl, databaseTimeoutMs),
            schema: config.databaseSchema,
            indexes: LEDGER_EVENT_INDEXES,
          })
        : await (
            await import('../../eventstoredb/esdb-event-store.js')
          ).EsdbEventStore.open(config.esdbConnectionString!, {
            streamPrefix: config.esdbStreamPrefix,
            mentions: LEDGER_EVENT_INDEXES.mentions,
            fences: LEDGER_EVENT_INDEXES.fences,
          });
    const keys = await PgKeyRepository.open(keysPool, config.keysSchema);
    return {
      store,
      keys,
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
