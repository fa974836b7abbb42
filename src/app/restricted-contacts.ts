import { RESTRICTION_TYPES } from '../domain/catalog.js';
import { restrictedAfter } from '../domain/contact-flags.js';
import type { EventStore } from '../store/event-store.js';
import { loggedFacts } from './logged-facts.js';

const PAGE = 1000;

/**
 * The contacts whose processing is restricted (GDPR art. 18), from the log: its restriction events,
 * read by type through their index and folded once, then caught up to the log's head each time
 * the question is asked. Not a read model: it never answers from less than the log held when
 * asked, whatever state.db says, and costs one indexed look-up per question instead of reading
 * the stream of every buyer of a batch (restrictions are rare; order activities are most events).
 */
class RestrictedContacts {
  private position = 0;
  private readonly restricted = new Set<string>();

  constructor(private readonly store: Pick<EventStore, 'readByTypes'>) {}

  async current(): Promise<ReadonlySet<string>> {
    for (;;) {
      const page = await this.store.readByTypes(RESTRICTION_TYPES, { after: this.position, limit: PAGE });
      for (const event of loggedFacts(page)) {
        // Two questions at once may read the same events: each is folded once, in log order.
        if (event.position <= this.position) continue;
        this.position = event.position;
        if (restrictedAfter(this.restricted.has(event.contactId), event)) this.restricted.add(event.contactId);
        else this.restricted.delete(event.contactId);
      }
      this.position = Math.max(this.position, page.at(-1)?.position ?? 0);
      if (page.length < PAGE) return this.restricted;
    }
  }
}

const byStore = new WeakMap<object, RestrictedContacts>();

/** The contacts restricted as the log of `store` stands now (one fold per store, caught up at each call). */
export function restrictedContacts(store: Pick<EventStore, 'readByTypes'>): Promise<ReadonlySet<string>> {
  let known = byStore.get(store);
  if (!known) byStore.set(store, (known = new RestrictedContacts(store)));
  return known.current();
}
