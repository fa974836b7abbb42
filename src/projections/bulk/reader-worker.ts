import { parentPort, workerData } from 'node:worker_threads';
import { BlindIndex } from '../../crypto/blind-index.js';
import { KeyStore } from '../../crypto/key-store.js';
import { MasterKey } from '../../crypto/master-key.js';
import { toWire } from '../../domain/wire-errors.js';
import { yieldToEventLoop } from '../../store/pages.js';
import { emailHashes } from '../email-hashes.js';
import type { BulkReaderCredit, BulkReaderInput, BulkReaderMessage } from './messages.js';
import { storePageSource, type PageSource } from './page-source.js';
import { sqlitePageSource } from './sqlite-page-source.js';

/**
 * The bulk reader thread (see pagesFromWorker), and its own composition root: it reads the log
 * after a position and sends each page as soon as the folding thread has room for it. The e-mails
 * of the pages sent are hashed while it has none, and after the last page, while the folding
 * thread writes its window. Only the configured backend's modules are loaded: state.db's here
 * (sqlite-page-source.ts), a server's log and keys in store/server-log.ts; never the main thread's root.
 */
const input = workerData as BulkReaderInput;
const port = parentPort!;
let credit = input.ahead;
let resume: () => void = () => {};
port.on('message', (_more: BulkReaderCredit) => {
  credit++;
  resume();
});
const send = (message: BulkReaderMessage) => port.postMessage(message);

async function openPageSource(): Promise<PageSource> {
  if (input.config.store === 'sqlite') return sqlitePageSource(input.config.dataDir);
  const { openServerLog } = await import('../../store/server-log.js');
  // Two connections: the pages, and the keys the e-mails are opened with.
  return storePageSource(await openServerLog(input.config, { log: 2, keys: 1 }));
}

const masterKey = MasterKey.fromBase64(input.masterKey, 'bulk reader');
let source: PageSource | null = null;
try {
  source = await openPageSource();
  await readAndHash(source);
} catch (error) {
  // Sent through the errors' registry: a LedgerError arrives with its class and status.
  send({ kind: 'failed', error: toWire(error) });
} finally {
  await source?.close();
}

async function readAndHash(source: PageSource): Promise<void> {
  // Each contact's key opens one registration in a rebuild: a small cache is enough. It turns over
  // every few pages, so an expiry would add nothing but its bookkeeping (10 % of the hashing).
  const hashes = emailHashes(
    new KeyStore(source.keys, masterKey, { cacheSize: 1000, cacheTtlMs: 0 }),
    new BlindIndex(masterKey),
  );
  const unhashed: Array<{ after: number; last: number }> = [];
  const hashOldest = async () => {
    const { after, last } = unhashed.shift()!;
    send({ kind: 'hashes', emailHashes: [...(await hashes(await source.sealedEmails(after, last)))], last });
  };
  let after = input.after;
  for await (const page of source.pages(input.after, input.pageSize)) {
    send({ kind: 'page', ...page });
    unhashed.push({ after, last: page.last });
    after = page.last;
    credit--;
    while (credit === 0) {
      if (unhashed.length === 0) await new Promise<void>((resolve) => (resume = resolve));
      else {
        await hashOldest();
        await yieldToEventLoop(); // lets the folding thread's room arrive
      }
    }
  }
  send({ kind: 'done' });
  while (unhashed.length > 0) await hashOldest();
}
