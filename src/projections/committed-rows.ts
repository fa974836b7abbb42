import { LRUCache } from 'lru-cache';
import type { ConsentState } from '../domain/consent.js';
import type { ContactRecord } from './contact-record.js';
import type { LoadedRows, MissingRows, OrderRecord } from './fold-batch.js';

/** Rows kept of each kind (contacts, consents by contact, orders): a few megabytes each. */
const KEPT_ROWS = 20_000;

/** Takes the kept rows among `ids` out of `kept`; returns them, and the ids left to load. */
function lendFrom<T extends object>(kept: LRUCache<string, T>, ids: readonly string[]): [Map<string, T>, string[]] {
  const lent = new Map<string, T>();
  const toLoad: string[] = [];
  for (const id of ids) {
    const row = kept.get(id);
    if (row === undefined) toLoad.push(id);
    else {
      kept.delete(id);
      lent.set(id, row);
    }
  }
  return [lent, toLoad];
}

/**
 * The rows the last windows committed, as stored, so that the next window folding over the same
 * contacts need not load them again: live passes keep meeting the same contacts. A row is lent,
 * not shared: a window takes it out (it folds it in place), and only a committed window puts its
 * rows back, so a window abandoned half-way leaves nothing newer than storage behind. The least
 * recently committed go first.
 */
export class CommittedRows {
  private readonly kept = {
    contacts: new LRUCache<string, ContactRecord>({ max: KEPT_ROWS }),
    consents: new LRUCache<string, ConsentState>({ max: KEPT_ROWS }),
    orders: new LRUCache<string, OrderRecord>({ max: KEPT_ROWS }),
  };

  /** Takes out the rows kept among those a window asks for; `toLoad`: the ones left to read from storage. */
  lend(asked: MissingRows): { lent: LoadedRows; toLoad: MissingRows } {
    const [contacts, contactsToLoad] = lendFrom(this.kept.contacts, asked.contacts);
    const [consents, consentsToLoad] = lendFrom(this.kept.consents, asked.consents);
    const [orders, ordersToLoad] = lendFrom(this.kept.orders, asked.orders);
    return {
      lent: { contacts, consents, orders },
      toLoad: { contacts: contactsToLoad, consents: consentsToLoad, orders: ordersToLoad, purposes: asked.purposes },
    };
  }

  /**
   * Keeps the rows of a window once storage holds them (its commit succeeded). A window larger
   * than what is kept (a rebuild's, a long catch-up's) is not: it would only churn the cache.
   * Skipping is always safe, since a window took out every kept row it folded over.
   */
  keep(committed: LoadedRows): void {
    const { contacts, consents, orders } = committed;
    if (Math.max(contacts.size, consents.size, orders.size) > KEPT_ROWS) return;
    for (const [id, row] of contacts) this.kept.contacts.set(id, row);
    for (const [id, row] of consents) this.kept.consents.set(id, row);
    for (const [id, row] of orders) this.kept.orders.set(id, row);
  }

  /** Forgets every row (the read models were emptied). */
  clear(): void {
    for (const kept of Object.values(this.kept)) kept.clear();
  }
}
