import type { KeyRepository } from '../../crypto/key-repository.js';
import type { EventFact, EventStore } from '../../store/event-store.js';
import { pagesAfter } from '../../store/pages.js';
import { domainEvents, sealsEmail } from '../fold-batch.js';
import { toJsonText, type PageText } from './messages.js';

/** The sealed part of an event that sets an e-mail: what the reader opens and hashes. */
export type SealedEmail = Pick<EventFact, 'id' | 'sealed'>;

/** Where the bulk reader thread reads the log and the keys. */
export interface PageSource {
  keys: KeyRepository;
  /** Pages after a position, `pageSize` events each. */
  pages(after: number, pageSize: number): AsyncIterable<PageText>;
  /** The sealed e-mails of a page read (the events after `after` up to `last`); asked once per page. */
  sealedEmails(after: number, last: number): Promise<SealedEmail[]>;
  close(): Promise<void>;
}

/**
 * Pages through the event-store port, for any backend. A server round trip costs more than
 * SQLite's cache: a page's sealed e-mails are kept from its reading until they are asked for (a
 * window's worth at most).
 */
export function storePageSource(log: { store: EventStore; keys: KeyRepository; close(): Promise<void> }): PageSource {
  const { store } = log;
  const sealedOfPage = new Map<number, SealedEmail[]>();
  return {
    keys: log.keys,
    close: () => log.close(),
    async *pages(after, pageSize) {
      for await (const facts of pagesAfter((from, limit) => store.readFacts({ after: from, limit }), after, pageSize)) {
        const last = facts.at(-1)!.position;
        const sealed = facts.filter(sealsEmail).map(({ id, sealed }) => ({ id, sealed }));
        sealedOfPage.set(last, sealed);
        yield {
          events: toJsonText(domainEvents(facts)),
          emailEvents: toJsonText(sealed.map((part) => part.id)),
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
