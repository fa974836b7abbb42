import { setImmediate } from 'node:timers/promises';

/**
 * Lets pending I/O (HTTP requests, timers) run. better-sqlite3 is synchronous, so a loop over
 * pages that only awaits its own resolved promises never leaves the microtask queue: long
 * catch-ups call this between pages to keep the server responsive.
 */
export const yieldToEventLoop = (): Promise<void> => setImmediate();
