import type { LedgerConfig } from '../config.js';
import type { KeyRepository } from '../crypto/key-repository.js';
import { EVENT_TYPES } from '../domain/catalog.js';
import { CONTACT_STREAM_PREFIX } from '../domain/identifiers.js';
import { pagesInThread, type EmailHashes } from '../projections/runner.js';
import { pagesAfterBy } from '../store/pages.js';
import type { SqliteEventStore } from '../store/sqlite-event-store.js';
import { EMAIL_FIELD } from './email-hashes.js';

/** A page as the bulk reader thread sends it: the domain events as JSON text, the cheapest thing to copy and parse. */
export interface JsonPage {
  events: string;
  emailHashes: ReadonlyMap<string, string>;
  last: number;
}

/** The log and the keys as a bulk reader thread opens them. */
export interface LogReader {
  keys: KeyRepository;
  /** Pages after a position, `pageSize` events each, with the e-mail hashes `hashes` gives. */
  pages(after: number, pageSize: number, hashes: EmailHashes): AsyncIterable<JsonPage>;
  close(): Promise<void>;
}

/** A page of the fold's events (contact streams, ledger types) with the sealed parts that hold an e-mail. */
export const readFoldPage = (store: SqliteEventStore, after: number, limit: number) =>
  store.readFoldPage({ after, limit, streamPrefix: CONTACT_STREAM_PREFIX, types: EVENT_TYPES, sealedField: EMAIL_FIELD });

/**
 * Opens the configured backend for a bulk reader thread. Only that backend's modules are loaded
 * (on SQLite, the PostgreSQL client would cost the thread memory for nothing). SQLite gets a small
 * page cache (a bulk read visits each page once), and SQLite itself writes each page's JSON text
 * (the same events as `domainEvents`: ledger types, contact streams).
 */
export async function openLogReader(config: LedgerConfig): Promise<LogReader> {
  if (config.store === 'sqlite') {
    const { store, keys, close } = (await import('./sqlite-log.js')).openSqliteLog(config.dataDir, { pageCacheMb: 1 });
    return {
      keys, close,
      async *pages(after, pageSize, hashes) {
        for await (const page of pagesAfterBy(async (from, limit) => readFoldPage(store, from, limit), after, pageSize, (page) => page)) {
          yield { events: page.events, emailHashes: await hashes(page.sealed), last: page.last };
        }
      },
    };
  }
  const { store, keys, close } = await (await import('./backends.js')).openBackend(config);
  return {
    keys, close,
    async *pages(after, pageSize, hashes) {
      for await (const page of pagesInThread(store, hashes)(after, pageSize)) yield { ...page, events: JSON.stringify(page.events) };
    },
  };
}
