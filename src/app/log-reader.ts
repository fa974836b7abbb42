import type { LedgerConfig } from '../config.js';
import type { KeyRepository } from '../crypto/key-repository.js';
import { domainEventsJson } from '../projections/fold-batch.js';
import { pagesInThread, type EmailHashes } from '../projections/runner.js';
import { pagesAfter } from '../store/pages.js';
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

/**
 * Opens the configured backend for a bulk reader thread. Only that backend's modules are loaded
 * (on SQLite, the PostgreSQL client would cost the thread memory for nothing). SQLite gets a small
 * page cache (a bulk read visits each page once) and reads raw facts, whose data goes into the
 * page's text unparsed.
 */
export async function openLogReader(config: LedgerConfig): Promise<LogReader> {
  if (config.store === 'sqlite') {
    const { store, keys, close } = (await import('./sqlite-log.js')).openSqliteLog(config.dataDir, { pageCacheMb: 1 });
    return {
      keys, close,
      async *pages(after, pageSize, hashes) {
        for await (const facts of pagesAfter((from, limit) => store.readRawFacts(EMAIL_FIELD, { after: from, limit }), after, pageSize)) {
          yield { events: domainEventsJson(facts), emailHashes: await hashes(facts), last: facts.at(-1)!.position };
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
