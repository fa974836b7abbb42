import { startWorker, threadError } from '../worker-thread.js';
import type { LedgerConfig } from '../config.js';
import type { MasterKey } from '../crypto/master-key.js';
import type { FoldPage, FoldPages } from '../projections/runner.js';

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

/** A page as the reader thread sends it: the events as JSON text, the cheapest thing to copy and parse. */
export type BulkReaderMessage = { events: string; emailHashes: Array<[string, string]>; last: number } | { done: true };

const PAGES_AHEAD = 4;

/**
 * Pages of a long backlog prepared on a worker thread, so that a rebuild uses both cores: the
 * worker reads the facts, opens the e-mail seals and hashes them for the blind index, while this
 * thread folds and writes. The worker opens its own connections of the configured backend.
 */
export function pagesFromWorker(config: LedgerConfig, masterKey: MasterKey): FoldPages {
  return (after, pageSize) => readInWorker({ config, masterKey: masterKey.toBase64(), after, pageSize, ahead: PAGES_AHEAD });
}

async function* readInWorker(input: BulkReaderInput): AsyncGenerator<FoldPage> {
  const worker = startWorker(import.meta.url, './bulk-pages-worker', input);
  const received: BulkReaderMessage[] = [];
  let failure: Error | null = null;
  let exited = false;
  let wake: () => void = () => {};
  worker.on('message', (message: BulkReaderMessage) => {
    received.push(message);
    wake();
  });
  worker.on('error', (error: unknown) => {
    failure = threadError(error, 'the bulk reader thread');
    wake();
  });
  worker.on('exit', () => {
    exited = true;
    wake();
  });
  try {
    for (;;) {
      while (received.length === 0 && !failure && !exited) await new Promise<void>((resolve) => (wake = resolve));
      const message = received.shift();
      if (failure) throw failure;
      if (!message) throw new Error('the bulk reader thread stopped before the end of the log');
      if ('done' in message) return;
      worker.postMessage('more');
      yield { events: JSON.parse(message.events) as FoldPage['events'], emailHashes: new Map(message.emailHashes), last: message.last };
    }
  } finally {
    await worker.terminate();
  }
}
