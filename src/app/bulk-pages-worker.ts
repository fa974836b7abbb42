import { parentPort, workerData } from 'node:worker_threads';
import { BlindIndex } from '../crypto/blind-index.js';
import { KeyStore } from '../crypto/key-store.js';
import { MasterKey } from '../crypto/master-key.js';
import { openLogReader } from './log-reader.js';
import type { BulkReaderInput, BulkReaderMessage } from './bulk-pages.js';
import { emailHashes } from './email-hashes.js';

/**
 * The bulk reader thread (see pagesFromWorker): reads the log after a position, hashes the e-mails
 * for the blind index, and sends each page as soon as the folding thread has room for it.
 */
const input = workerData as BulkReaderInput;
const port = parentPort!;
let credit = input.ahead;
let resume: () => void = () => {};
port.on('message', () => {
  credit++;
  resume();
});
const send = (message: BulkReaderMessage) => port.postMessage(message);

const masterKey = MasterKey.fromBase64(input.masterKey, 'bulk reader');
const backend = await openLogReader(input.config);
try {
  // Each contact's key opens one registration in a rebuild: a small cache is enough. It turns over
  // every few pages, so an expiry would add nothing but its bookkeeping (10 % of the hashing).
  const hashes = emailHashes(new KeyStore(backend.keys, masterKey, { cacheSize: 1000, cacheTtlMs: 0 }), new BlindIndex(masterKey));
  for await (const page of backend.pages(input.after, input.pageSize, hashes)) {
    send({ events: page.events, emailHashes: [...page.emailHashes], last: page.last });
    credit--;
    while (credit === 0) await new Promise<void>((resolve) => (resume = resolve));
  }
  send({ done: true });
} finally {
  await backend.close();
}
