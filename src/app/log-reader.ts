import type { LedgerConfig } from '../config.js';
import type { LogAndKeys } from './backends.js';

/**
 * The log and the keys as a bulk reader thread opens them. Only the configured backend's modules
 * are loaded (on SQLite, the PostgreSQL and EventStoreDB clients would cost the thread ~25 MB for
 * nothing), and SQLite gets a small page cache: a bulk read visits each page once.
 */
export async function openLogReader(config: LedgerConfig): Promise<LogAndKeys> {
  if (config.store === 'sqlite') return (await import('./sqlite-log.js')).openSqliteLog(config.dataDir, { pageCacheMb: 1 });
  return (await import('./backends.js')).openBackend(config);
}
