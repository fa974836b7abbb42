import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { LedgerConfig } from '../config.js';
import type { Logger } from '../log.js';
import { KeyStore } from '../crypto/key-store.js';
import { loadMasterKey } from '../crypto/master-key.js';
import { SqliteKeyRepository } from '../crypto/sqlite-key-repository.js';
import { SqliteEventStore } from '../store/sqlite-event-store.js';
import { Shredder } from '../jobs/shredder.js';
import { FORGETTING_TYPES } from '../domain/catalog.js';
import { Ledger } from './ledger.js';
import { openStateDb } from '../projections/state-db.js';
import { ReadModels } from '../projections/read-models.js';
import { SqliteReadModelStore } from '../projections/sqlite-read-model-store.js';
import { ProjectionRunner } from '../projections/runner.js';
import { BlindIndex } from '../crypto/blind-index.js';
import { emailHashes } from './email-hashes.js';

export interface OpenLedger {
  ledger: Ledger;
  shredder: Shredder;
  readModels: ReadModels;
  runner: ProjectionRunner;
  blindIndex: BlindIndex;
  close(): Promise<void>;
}

/**
 * Composition root of the embedded default: events.db, keys.db and state.db in the data directory
 * (keys kept apart so that a backup of the events carries no key), then the start-up shred pass, so that
 * anything the log says is forgotten is forgotten before the first request.
 */
export async function openLedger(config: LedgerConfig, log: Logger): Promise<OpenLedger> {
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const masterKey = loadMasterKey(
    { masterKey: config.masterKey, masterKeyFile: config.masterKeyFile, defaultKeyFile: join(config.dataDir, 'master.key') },
    (path) => log.warn({ path }, 'created a new master key file (mode 0600): back it up apart from the data, losing it loses every sealed field'),
  );
  const store = new SqliteEventStore(join(config.dataDir, 'events.db'), { indexedTypes: FORGETTING_TYPES });
  const keys = new KeyStore(new SqliteKeyRepository(join(config.dataDir, 'keys.db')), masterKey);
  const shredder = new Shredder(store, keys);
  const reconciled = await shredder.reconcile();
  if (reconciled.keysDestroyed > 0) log.warn(reconciled, 'start-up pass destroyed keys of forgotten scopes');
  const stateStore = new SqliteReadModelStore(openStateDb(join(config.dataDir, 'state.db')));
  const readModels = new ReadModels(stateStore);
  const blindIndex = new BlindIndex(masterKey);
  return {
    ledger: new Ledger(store, keys, shredder),
    shredder,
    readModels,
    runner: new ProjectionRunner(store, readModels, { emailHashes: emailHashes(keys, blindIndex) }),
    blindIndex,
    close: async () => {
      await store.close();
      await keys.close();
      await stateStore.close();
    },
  };
}
