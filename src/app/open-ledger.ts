import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { LedgerConfig } from '../config.js';
import type { Logger } from '../log.js';
import { KeyStore } from '../crypto/key-store.js';
import { loadMasterKey } from '../crypto/master-key.js';
import { Shredder } from '../jobs/shredder.js';
import { Ledger } from './ledger.js';
import { ReadModels } from '../projections/read-models.js';
import { ProjectionRunner } from '../projections/runner.js';
import { BlindIndex } from '../crypto/blind-index.js';
import { emailHashes } from './email-hashes.js';
import { openBackend } from './backends.js';
import { pagesFromWorker } from './bulk-pages.js';

export interface OpenLedger {
  ledger: Ledger;
  shredder: Shredder;
  readModels: ReadModels;
  runner: ProjectionRunner;
  blindIndex: BlindIndex;
  close(): Promise<void>;
}

/**
 * Composition root: the configured backend (openBackend), then the start-up shred pass, so that
 * anything the log says is forgotten is forgotten before the first request.
 */
export async function openLedger(config: LedgerConfig, log: Logger): Promise<OpenLedger> {
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const masterKey = loadMasterKey(
    {
      masterKey: config.masterKey,
      masterKeyFile: config.masterKeyFile,
      defaultKeyFile: join(config.dataDir, 'master.key'),
    },
    (path) =>
      log.warn(
        { path },
        'created a new master key file (mode 0600): back it up apart from the data, losing it loses every sealed field',
      ),
  );
  const backend = await openBackend(config);
  const { store } = backend;
  const keys = new KeyStore(backend.keys, masterKey);
  const shredder = new Shredder(store, keys);
  const reconciled = await shredder.reconcile();
  if (reconciled.keysDestroyed > 0) log.warn(reconciled, 'start-up pass destroyed keys of forgotten scopes');
  const readModels = new ReadModels(backend.readModels);
  const blindIndex = new BlindIndex(masterKey);
  return {
    ledger: new Ledger(store, keys, shredder),
    shredder,
    readModels,
    runner: new ProjectionRunner(store, readModels, {
      emailHashes: emailHashes(keys, blindIndex),
      bulkPages: pagesFromWorker(config, masterKey),
    }),
    blindIndex,
    close: (() => {
      let closing: Promise<void> | null = null;
      return () => (closing ??= backend.close());
    })(),
  };
}
