import { startWorker, threadError } from '../worker-thread.js';
import type { LedgerConfig } from '../config.js';
import type { MasterKey } from '../crypto/master-key.js';
import type { FoldPage, FoldPages } from '../projections/runner.js';
import type { JsonPage } from './log-reader.js';

/** What the bulk reader thread is started with. */
export interface BulkReaderInput {
  config: LedgerConfig;
  /** Base64; the data keys it unwraps open the e-mail seals. Stays in this process. */
  masterKey: string;
  after: number;
  pageSize: number;
  /** Pages it may prepare ahead of the folding thread: bounds the memory between the two. */
  ahead: number;
}

/**
 * What the reader thread sends: pages, the end of the log, and, pages in order, the blind-index
 * hashes of each page's e-mails ([event id, hash]), some of them after the end.
 */
export type BulkReaderMessage = JsonPage | { emailHashes: Array<[string, string]>; last: number } | { done: true };

/**
 * Pages the reader may send ahead: enough that it can hash e-mails between pages without the
 * folding thread running dry (4: the folding thread waits 1.1 s in a 1M-event rebuild; 32: 0.6 s).
 */
const PAGES_AHEAD = 32;
/**
 * The reader's young generation (V8's default is 48 MB): its pages and seals die young, and a
 * smaller nursery keeps about 20 MB off the peak memory of a rebuild for a few more scavenges.
 */
const READER_LIMITS = { maxYoungGenerationSizeMb: 24 };

/**
 * Pages of a long backlog prepared on a worker thread, so that a rebuild uses both cores: the
 * worker reads the pages, opens the e-mail seals and hashes them for the blind index, while this
 * thread folds and writes. A page's hashes are awaited only when its window's e-mail index is
 * written: the worker hashes when the folding thread has no room for another page, and after the
 * last one, while this thread writes the rest of the window. The worker opens its own connections
 * of the configured backend.
 */
export function pagesFromWorker(config: LedgerConfig, masterKey: MasterKey): FoldPages {
  return (after, pageSize) =>
    readInWorker({ config, masterKey: masterKey.toBase64(), after, pageSize, ahead: PAGES_AHEAD });
}

/** A promise settled from outside, its failure handled until someone awaits it. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<T>((onResolve, onReject) => ((resolve = onResolve), (reject = onReject)));
  promise.catch(() => {});
  return { promise, resolve, reject };
}

async function* readInWorker(input: BulkReaderInput): AsyncGenerator<FoldPage> {
  const worker = startWorker(import.meta.url, './bulk-pages-worker', input, READER_LIMITS);
  const received: Array<JsonPage & { emailHashes: Promise<ReadonlyMap<string, string>> }> = [];
  const unhashed: Array<{ last: number } & ReturnType<typeof deferred<ReadonlyMap<string, string>>>> = [];
  let failure: Error | null = null;
  let ended = false;
  let wake: () => void = () => {};
  const fail = (error: Error) => {
    failure ??= error;
    for (const page of unhashed.splice(0)) page.reject(failure);
    wake();
  };
  // Messages are handled as they arrive, not as pages are taken: a page's hashes come later.
  worker.on('message', (message: BulkReaderMessage) => {
    if ('done' in message) ended = true;
    else if ('events' in message) {
      const hashes = deferred<ReadonlyMap<string, string>>();
      unhashed.push({ last: message.last, ...hashes });
      received.push({ ...message, emailHashes: hashes.promise });
    } else {
      const page = unhashed.shift();
      if (page?.last !== message.last) return fail(new Error('the bulk reader thread sent e-mail hashes out of order'));
      page.resolve(new Map(message.emailHashes));
    }
    wake();
  });
  worker.on('error', (error: unknown) => fail(threadError(error, 'the bulk reader thread')));
  worker.on('exit', () => {
    if (!ended || unhashed.length > 0) fail(new Error('the bulk reader thread stopped before the end of the log'));
  });
  let taken: Promise<unknown> = Promise.resolve();
  try {
    for (;;) {
      while (received.length === 0 && !failure && !ended) await new Promise<void>((resolve) => (wake = resolve));
      const page = received.shift();
      if (failure) throw failure;
      if (!page) return;
      worker.postMessage('more');
      taken = page.emailHashes;
      // Parsed when taken, not when received: the objects then die young, in the nursery.
      yield {
        events: JSON.parse(page.events) as FoldPage['events'],
        emailEvents: new Set(JSON.parse(page.emailEvents) as string[]),
        emailHashes: page.emailHashes,
        last: page.last,
      };
    }
  } finally {
    // The window folded so far is committed with the hashes of every page taken: the thread stops
    // once they have come (it hashes the pages it sent while it has no room for more) or failed.
    const stop = () => void worker.terminate();
    taken.then(stop, stop);
  }
}
