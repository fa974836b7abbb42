import { setImmediate } from 'node:timers/promises';

/**
 * Lets pending I/O (HTTP requests, timers) run. better-sqlite3 is synchronous, so a loop over
 * pages that only awaits its own resolved promises never leaves the microtask queue: long reads
 * call this between pages to keep the server responsive.
 */
export const yieldToEventLoop = (): Promise<void> => setImmediate();

/** How far a page reaches: the number of items read and the key (a position, an id) of the last one. */
export interface PageExtent<K = number> {
  count: number;
  last: K;
}

/**
 * The one keyset paging loop (catch-ups, rebuilds, verification, the start-up shred pass, the
 * batches' walks of a read model by id): pages after `after` until a short page, yielding to the
 * event loop between pages. `extentOf` says how far a page reaches (a page need not be an array).
 */
export async function* pagesAfterBy<P, K = number>(
  read: (after: K, limit: number) => Promise<P>,
  after: K,
  limit: number,
  extentOf: (page: P) => PageExtent<K>,
): AsyncGenerator<P> {
  for (let position = after; ;) {
    const page = await read(position, limit);
    const { count, last } = extentOf(page);
    if (count === 0) return;
    yield page;
    position = last;
    if (count < limit) return;
    await yieldToEventLoop();
  }
}

/** Pages of events after `after` (see pagesAfterBy). */
export function pagesAfter<E extends { position: number }>(
  read: (after: number, limit: number) => Promise<E[]>,
  after: number,
  limit: number,
): AsyncGenerator<E[]> {
  return pagesAfterBy(read, after, limit, (page) => ({ count: page.length, last: page.at(-1)?.position ?? after }));
}
