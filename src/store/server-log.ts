import type { LedgerConfig } from '../config.js';
import { connectionOptions, openPool, type LedgerPool } from '../postgres/database.js';
import { PgEventStore } from '../postgres/pg-event-store.js';
import { PgKeyRepository } from '../postgres/pg-key-repository.js';
import { LEDGER_STREAMS } from '../domain/streams.js';
import { LEDGER_EVENT_INDEXES } from './ledger-event-indexes.js';
import type { KeyRepository } from '../crypto/key-repository.js';
import type { EventStore } from './event-store.js';

/** The npm package of the EventStoreDB client: an optional dependency, loaded only for LEDGER_STORE=eventstoredb. */
export const ESDB_CLIENT_PACKAGE = '@eventstore/db-client';

/**
 * The EventStoreDB adapter, imported only when configured, since its client is an optional
 * dependency: without it, the start fails with the command that installs it, not a stack trace.
 */
export async function importEsdbAdapter(
  load: () => Promise<typeof import('../eventstoredb/esdb-event-store.js')> = () =>
    import('../eventstoredb/esdb-event-store.js'),
) {
  try {
    return await load();
  } catch (error) {
    const { code, message } = error as { code?: unknown; message?: unknown };
    const missing =
      (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && String(message).includes(ESDB_CLIENT_PACKAGE);
    if (!missing) throw error;
    throw new Error(
      `LEDGER_STORE=eventstoredb needs the optional package ${ESDB_CLIENT_PACKAGE}, which is not installed: ` +
        `run npm install ${ESDB_CLIENT_PACKAGE}`,
    );
  }
}

/** The log on a database server: PostgreSQL's events schema (through `pool`), or EventStoreDB. */
export async function openServerEventStore(config: LedgerConfig, pool: LedgerPool): Promise<EventStore> {
  const { databaseTimeoutMs } = config;
  if (config.store === 'postgres') {
    return PgEventStore.open(pool, {
      connection: connectionOptions(config.databaseUrl!, databaseTimeoutMs),
      schema: config.databaseSchema,
      indexes: LEDGER_EVENT_INDEXES,
    });
  }
  const { EsdbEventStore } = await importEsdbAdapter();
  return EsdbEventStore.open(config.esdbConnectionString!, {
    streamPrefix: config.esdbStreamPrefix,
    streams: LEDGER_STREAMS,
    mentions: LEDGER_EVENT_INDEXES.mentions,
    fences: LEDGER_EVENT_INDEXES.fences,
    deadlineMs: databaseTimeoutMs,
  });
}

/** The log and the keys on a database server, with the pool of the log's database (read models go there too). */
export interface ServerLog {
  store: EventStore;
  keys: KeyRepository;
  pool: LedgerPool;
  close(): Promise<void>;
}

/**
 * The log and the keys on a database server (LEDGER_STORE=postgres or eventstoredb): what
 * app/open-ledger.ts builds the ledger on, and all the bulk reader thread opens (no read model,
 * no use case: a composition root of its own, so the read models know no use case).
 * `connections`: the most each pool opens (the keys get their own pool only in their own database);
 * `onWipeFailed`: told of a key wipe that failed in the background (see PgKeyRepository).
 */
export async function openServerLog(
  config: LedgerConfig,
  connections: { log: number; keys: number } = { log: 10, keys: 10 },
  { onWipeFailed }: { onWipeFailed?: (error: Error) => void } = {},
): Promise<ServerLog> {
  const databaseUrl = config.databaseUrl!;
  const { databaseTimeoutMs } = config;
  const pool = openPool(databaseUrl, config.databaseApplicationName, databaseTimeoutMs, connections.log);
  const keysPool =
    config.keysDatabaseUrl && config.keysDatabaseUrl !== databaseUrl
      ? openPool(config.keysDatabaseUrl, config.databaseApplicationName, databaseTimeoutMs, connections.keys)
      : pool;
  const endPools = () => Promise.all([...new Set([pool, keysPool])].map((one) => one.end()));
  try {
    const store = await openServerEventStore(config, pool);
    const keys = await PgKeyRepository.open(keysPool, config.keysSchema, onWipeFailed ? { onWipeFailed } : {});
    return {
      store,
      keys,
      pool,
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
