import type pg from 'pg';
import { LedgerClient } from './database.js';

/**
 * One node runs each occurrence of a scheduled job: a PostgreSQL session advisory lock named
 * after the ledger's schema and the occurrence, taken without waiting on a connection of its own
 * and held while the run lasts (its end releases it, and so does a node that dies). The caller
 * checks the log for a recorded run under the lock, so a node that gets it after the run skips it.
 */
export class OccurrenceLock {
  constructor(
    /** A connection string, or connectionOptions: the lock's query must not wait forever either. */
    private readonly connection: string | pg.ClientConfig,
    /** Keeps the locks of ledgers on other schemas of the same database apart. */
    private readonly namespace: string,
  ) {}

  async runIfFree<T>(name: string, work: () => Promise<T>): Promise<{ ran: true; value: T } | { ran: false }> {
    const client = new LedgerClient(this.connection);
    client.on('error', () => {}); // a lost connection releases the lock; the run's own queries use the pool
    await client.connect();
    try {
      const {
        rows: [row],
      } = await client.query<{ held: boolean }>('SELECT pg_try_advisory_lock(hashtext($1), hashtext($2)) AS held', [
        `contact-ledger:${this.namespace}:schedules`,
        name,
      ]);
      if (!row?.held) return { ran: false };
      return { ran: true, value: await work() };
    } finally {
      await client.end().catch(() => {});
    }
  }
}
