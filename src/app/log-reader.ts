import type { LedgerConfig } from '../config.js';
import type { KeyRepository } from '../crypto/key-repository.js';
import { EVENT_TYPES } from '../domain/catalog.js';
import { CONTACT_STREAM_PREFIX } from '../domain/identifiers.js';
import { domainEvents, EMAIL_FIELD, sealsEmail } from '../projections/fold-batch.js';
import type { EventFact } from '../store/event-store.js';
import { pagesAfter, pagesAfterBy } from '../store/pages.js';
import type { SqliteEventStore } from '../store/sqlite-event-store.js';

/**
 * A page as the bulk reader thread sends it: the fold's events, and the ids of those that set an
 * e-mail, as JSON text (the cheapest thing to copy and parse); the position of its last event.
 */
export interface JsonPage {
  events: string;
  emailEvents: string;
  last: number;
}

/** The log and the keys as a bulk reader thread opens them. */
export interface LogReader {
  keys: KeyRepository;
  /** Pages after a position, `pageSize` events each. */
  pages(after: number, pageSize: number): AsyncIterable<JsonPage>;
  /** The sealed parts that hold an e-mail of a page read (the events after `after` up to `last`); asked once per page. */
  sealedEmails(after: number, last: number): Promise<Array<Pick<EventFact, 'id' | 'sealed'>>>;
  close(): Promise<void>;
}

/** A page of the fold's events (contact streams, ledger types), with the ids of those that set an e-mail. */
export const readFoldPage = (store: SqliteEventStore, after: number, limit: number) =>
  store.readFoldPage({
    after,
    limit,
    streamPrefix: CONTACT_STREAM_PREFIX,
    types: EVENT_TYPES,
    sealedField: EMAIL_FIELD,
  });

/**
 * Opens the configured backend for a bulk reader thread. Only that backend's modules are loaded
 * (on SQLite, the PostgreSQL client would cost the thread memory for nothing). SQLite gets a small
 * page cache (a bulk read visits each page once), and SQLite itself writes each page's JSON text
 * (the same events as `domainEvents`: ledger types, contact streams).
 */
export async function openLogReader(config: LedgerConfig): Promise<LogReader> {
  if (config.store === 'sqlite') {
    const { store, keys, close } = (await import('./open-ledger.js')).openSqliteLog(config.dataDir, { pageCacheMb: 1 });
    return {
      keys,
      close,
      async *pages(after, pageSize) {
        for await (const { events, sealing, last } of pagesAfterBy(
          async (from, limit) => readFoldPage(store, from, limit),
          after,
          pageSize,
          (page) => page,
        )) {
          yield { events, emailEvents: sealing, last };
        }
      },
      sealedEmails: async (after, last) => store.readSealing({ after, last, field: EMAIL_FIELD }),
    };
  }
  const { store, keys, close } = await (await import('./open-ledger.js')).openBackend(config);
  // A server round trip costs more than SQLite's cache: the sealed parts that hold an e-mail are
  // kept from a page's reading until they are asked for (a window's worth at most).
  const sealedOfPage = new Map<number, Array<Pick<EventFact, 'id' | 'sealed'>>>();
  return {
    keys,
    close,
    async *pages(after, pageSize) {
      for await (const facts of pagesAfter((from, limit) => store.readFacts({ after: from, limit }), after, pageSize)) {
        const last = facts.at(-1)!.position;
        const sealed = facts.filter(sealsEmail).map(({ id, sealed }) => ({ id, sealed }));
        sealedOfPage.set(last, sealed);
        yield {
          events: JSON.stringify(domainEvents(facts)),
          emailEvents: JSON.stringify(sealed.map((part) => part.id)),
          last,
        };
      }
    },
    async sealedEmails(_after, last) {
      const sealed = sealedOfPage.get(last) ?? [];
      sealedOfPage.delete(last);
      return sealed;
    },
  };
}
