import { setImmediate } from 'node:timers/promises';

/**
 * Lets pending I/O (HTTP requests, timers) run. better-sqlite3 is synchronous, so a loop over
 * pages that only awaits its own resolved promises never leaves the microtask queue: long reads
 * call this between pages to keep the server responsive.
 */
export const yieldToEventLoop = (): Promise<void> => setImmediate();

/**
 * The one paging loop of every reader by position (catch-ups, rebuilds, verification, the
 * start-up shred pass): pages after `after` until a short page, yielding to the event loop
 * between pages.
 */
export async function* pagesAfter<E extends { position: number }>(
  read: (after: number, limit: number) => Promise<E[]>,
  after: number,
  limit: number,
): AsyncGenerator<E[]> {
  for (let position = after; ;) {
    const page = await read(position, limit);
    if (page.length === 0) return;
    yield page;
    position = page.at(-1)!.position;
    if (page.length < limit) return;
    await yieldToEventLoop();
  }
}
