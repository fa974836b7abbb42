import { parentPort, workerData } from 'node:worker_threads';
import { BlindIndex } from '../crypto/blind-index.js';
import { KeyStore } from '../crypto/key-store.js';
import { MasterKey } from '../crypto/master-key.js';
import { yieldToEventLoop } from '../store/pages.js';
import { openLogReader } from './log-reader.js';
import type { BulkReaderInput, BulkReaderMessage } from './bulk-pages.js';
import { emailHashes } from './email-hashes.js';

/**
 * The bulk reader thread (see pagesFromWorker): reads the log after a position and sends each
 * page as soon as the folding thread has room for it. The e-mails of the pages sent are hashed
 * while it has none, and after the last page, while the folding thread writes its window.
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
const reader = await openLogReader(input.config);
try {
  // Each contact's key opens one registration in a rebuild: a small cache is enough. It turns over
  // every few pages, so an expiry would add nothing but its bookkeeping (10 % of the hashing).
  const hashes = emailHashes(
    new KeyStore(reader.keys, masterKey, { cacheSize: 1000, cacheTtlMs: 0 }),
    new BlindIndex(masterKey),
  );
  // Pages sent, not hashed yet: on SQLite their sealed parts are read again when hashed (the pages
  // are still in its cache) rather than held here meanwhile.
  const unhashed: Array<{ after: number; last: number }> = [];
  const hashOldest = async () => {
    const { after, last } = unhashed.shift()!;
    send({ emailHashes: [...(await hashes(await reader.sealedEmails(after, last)))], last });
  };
  let after = input.after;
  for await (const { events, emailEvents, last } of reader.pages(input.after, input.pageSize)) {
    send({ events, emailEvents, last });
    unhashed.push({ after, last });
    after = last;
    credit--;
    while (credit === 0) {
      if (unhashed.length === 0) await new Promise<void>((resolve) => (resume = resolve));
      else {
        await hashOldest();
        await yieldToEventLoop(); // lets the folding thread's room arrive
      }
    }
  }
  send({ done: true });
  while (unhashed.length > 0) await hashOldest();
} finally {
  await reader.close();
}
