import { startWorker, threadError } from '../../worker-thread.js';
import type { LedgerConfig } from '../../config.js';
import type { MasterKey } from '../../crypto/master-key.js';
import { fromWire } from '../../domain/wire-errors.js';
import type { FoldPage, FoldPages } from '../runner.js';
import {
  parseJsonText,
  type BulkReaderCredit,
  type BulkReaderInput,
  type BulkReaderMessage,
  type PageText,
} from './messages.js';

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
  const worker = startWorker(import.meta.url, './reader-worker', input, READER_LIMITS);
  const received: Array<PageText & { emailHashes: Promise<ReadonlyMap<string, string>> }> = [];
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
    if (message.kind === 'failed') return fail(fromWire(message.error));
    if (message.kind === 'done') ended = true;
    else if (message.kind === 'page') {
      const hashes = deferred<ReadonlyMap<string, string>>();
      const { events, emailEvents, last } = message;
      unhashed.push({ last, ...hashes });
      received.push({ events, emailEvents, last, emailHashes: hashes.promise });
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
      worker.postMessage('more' satisfies BulkReaderCredit);
      taken = page.emailHashes;
      // Parsed when taken, not when received: the objects then die young, in the nursery.
      yield {
        events: parseJsonText(page.events),
        emailEvents: new Set(parseJsonText(page.emailEvents)),
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
