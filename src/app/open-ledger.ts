import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { v7 as uuidv7 } from 'uuid';
import { sqliteFiles, type LedgerConfig } from '../config.js';
import type { Logger } from '../log.js';
import { ConsentLinks } from '../crypto/consent-link.js';
import { CheckpointSigner } from '../crypto/log-checkpoint.js';
import { BlindIndex } from '../crypto/blind-index.js';
import { RowProofs } from '../crypto/row-proof.js';
import type { KeyRepository } from '../crypto/key-repository.js';
import { KeyStore, MissingKeyStore, MissingLog, WrongMasterKey } from '../crypto/key-store.js';
import { loadMasterKey, type MasterKey } from '../crypto/master-key.js';
import { rotateMasterKey, type RotationOptions, type RotationReport } from './rotate-master-key.js';
import { SqliteKeyRepository } from '../crypto/sqlite-key-repository.js';
import type { EventStore } from '../store/event-store.js';
import { LEDGER_EVENT_INDEXES } from '../store/ledger-event-indexes.js';
import { openServerLog } from '../store/server-log.js';
import { SqliteEventStore } from '../store/sqlite-event-store.js';
import { backupSqliteLedger, type SqliteBackup } from '../store/sqlite-backup.js';
import type { ReadModelStore } from '../projections/read-model-store.js';
import { ReadModels } from '../projections/read-models.js';
import { ProjectionRunner } from '../projections/runner.js';
import { SqliteReadModelStore } from '../projections/sqlite-read-model-store.js';
import { connectionOptions, openPool } from '../postgres/database.js';
import { PgKeyRepository } from '../postgres/pg-key-repository.js';
import { PgReadModelStore } from '../postgres/pg-read-model-store.js';
import { ProjectionLock } from '../postgres/projection-lock.js';
import { OccurrenceLock } from '../postgres/occurrence-lock.js';
import { Shredder } from '../jobs/shredder.js';
import { ForgetJournal } from '../jobs/forget-journal.js';
import { FORGETTING_TYPES } from '../domain/catalog.js';
import { rewindDeliveryToLog } from './subscribers.js';
import type { RunOccurrenceExclusively } from '../jobs/schedules.js';
import { pagesFromWorker } from '../projections/bulk/reader-thread.js';
import { emailHashes } from '../projections/email-hashes.js';
import type { LedgerContext } from './ledger-context.js';
import { ValidationError } from '../domain/errors.js';

/**
 * The composition root: the one module that knows the adapters. It opens the configured backend,
 * runs the start-up shred pass (anything the log says is forgotten is forgotten before the first
 * request), and hands the use cases their context.
 */

/** Runs a long-lived job on one node at a time; `start`'s stop runs when the node loses its turn. */
export type RunExclusively = (start: () => { stop(): void }, onError: (error: unknown) => void) => { stop(): void };

/** The log and the keys that seal its personal data. */
export interface LogAndKeys {
  store: EventStore;
  keys: KeyRepository;
  close(): Promise<void>;
}

/** Everything a backend gives the ledger, for the configured LEDGER_STORE. */
export interface Backend extends LogAndKeys {
  readModels: ReadModelStore;
  /** On a shared database, one node runs the projections; the others stand by (docs/multi-machine.md). */
  runProjectionsExclusively: RunExclusively;
  /** On a shared database, one node delivers to the subscribers; the others stand by (docs/multi-machine.md). */
  runDeliveryExclusively: RunExclusively;
  /** On a shared database, one node runs each occurrence of a scheduled job (src/jobs/schedules.ts). */
  runOccurrenceExclusively: RunOccurrenceExclusively;
  /** Empty read models of the same kind, apart from the ledger's (a temporary file or schema), dropped by `dispose`. */
  scratchReadModels(): Promise<{ store: ReadModelStore; dispose(): Promise<void> }>;
}

/**
 * SQLite is one node: a guard in the process suffices (the log's record of each run keeps a
 * second process on the same files from recording an occurrence twice; see recordScheduledRun).
 */
function inThisProcessOnly(): RunOccurrenceExclusively {
  const running = new Set<string>();
  return async (name, work) => {
    if (running.has(name)) return { ran: false };
    running.add(name);
    try {
      return { ran: true, value: await work() };
    } finally {
      running.delete(name);
    }
  };
}

/** events.db and keys.db of the data directory. */
function openSqliteLog(dataDir: string): LogAndKeys {
  const files = sqliteFiles(dataDir);
  const store = new SqliteEventStore(files.events, { indexes: LEDGER_EVENT_INDEXES });
  const keys = new SqliteKeyRepository(files.keys);
  return {
    store,
    keys,
    close: async () => {
      await store.close();
      await keys.close();
    },
  };
}

/**
 * sqlite: events.db, keys.db and state.db in the data directory. postgres: events and read
 * models in LEDGER_DATABASE_SCHEMA, keys in LEDGER_KEYS_SCHEMA (of LEDGER_KEYS_DATABASE_URL).
 * eventstoredb: the events in EventStoreDB, keys and read models in PostgreSQL as above.
 */
export async function openBackend(
  config: LedgerConfig,
  { onWipeFailed }: { onWipeFailed?: (error: Error) => void } = {},
): Promise<Backend> {
  if (config.store === 'sqlite') {
    const log = openSqliteLog(config.dataDir);
    const readModels = new SqliteReadModelStore(sqliteFiles(config.dataDir).state);
    return {
      ...log,
      readModels,
      runProjectionsExclusively: (start) => start(),
      runDeliveryExclusively: (start) => start(),
      runOccurrenceExclusively: inThisProcessOnly(),
      scratchReadModels: async () => {
        const dir = mkdtempSync(join(tmpdir(), 'ledger-scratch-'));
        const scratch = new SqliteReadModelStore(join(dir, 'state.db'));
        return {
          store: scratch,
          dispose: async () => {
            await scratch.close();
            rmSync(dir, { recursive: true, force: true });
          },
        };
      },
      close: async () => {
        await log.close();
        await readModels.close();
      },
    };
  }
  // Every connection, pooled or dedicated (LISTEN, advisory locks), waits at most the same bound.
  const connection = connectionOptions(config.databaseUrl!, config.databaseTimeoutMs);
  const log = await openServerLog(config, undefined, onWipeFailed ? { onWipeFailed } : {});
  const { pool } = log;
  try {
    const readModels = await PgReadModelStore.open(pool, config.databaseSchema);
    const lock = new ProjectionLock(connection, `${config.databaseSchema}:read-models`);
    const deliveryLock = new ProjectionLock(connection, `${config.databaseSchema}:delivery`);
    const occurrences = new OccurrenceLock(connection, config.databaseSchema);
    return {
      ...log,
      readModels,
      runProjectionsExclusively: (start, onError) => lock.hold(start, onError),
      runDeliveryExclusively: (start, onError) => deliveryLock.hold(start, onError),
      runOccurrenceExclusively: (name, work) => occurrences.runIfFree(name, work),
      scratchReadModels: async () => {
        const schema = `${config.databaseSchema}_scratch_${randomBytes(4).toString('hex')}`;
        return {
          store: await PgReadModelStore.open(pool, schema),
          dispose: async () => void (await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)),
        };
      },
    };
  } catch (error) {
    await log.close();
    throw error;
  }
}

/**
 * `ledger backup <folder>`: an online copy of the embedded ledger (backupSqliteLedger). A database
 * server's own tools back it up, and the README says what they must cover.
 */
export function backupLedger(config: LedgerConfig, folder: string): SqliteBackup {
  if (config.store !== 'sqlite') {
    throw new ValidationError(
      `ledger backup copies the embedded ledger only; with LEDGER_STORE=${config.store}, dump the events schema ` +
        `(${config.databaseSchema}) and the keys schema (${config.keysSchema}) separately with pg_dump --schema, ` +
        'the events first (README "Backups and restores")',
    );
  }
  return backupSqliteLedger(sqliteFiles(config.dataDir), folder);
}

/**
 * `ledger keys rotate-master`: the key database alone, beside a ledger that may be running, with
 * the configured (current) master key. Never creates either: a rotation needs both to exist.
 */
export async function rotateLedgerMasterKey(
  config: LedgerConfig,
  next: MasterKey,
  options: RotationOptions,
): Promise<RotationReport> {
  const defaultKeyFile = join(config.dataDir, 'master.key');
  const current = loadMasterKey({
    masterKey: config.masterKey,
    masterKeyCommand: config.masterKeyCommand,
    masterKeyFile: config.masterKeyFile ?? (existsSync(defaultKeyFile) ? defaultKeyFile : undefined),
  });
  const keysFile = sqliteFiles(config.dataDir).keys;
  if (config.store === 'sqlite' && !existsSync(keysFile)) {
    throw new ValidationError(`no key database at ${keysFile}: LEDGER_DATA_DIR is not a ledger's data folder`);
  }
  const pool =
    config.store === 'sqlite'
      ? null
      : openPool(
          config.keysDatabaseUrl ?? config.databaseUrl!,
          config.databaseApplicationName,
          config.databaseTimeoutMs,
        );
  try {
    const repository =
      pool === null ? new SqliteKeyRepository(keysFile) : await PgKeyRepository.open(pool, config.keysSchema);
    try {
      return await rotateMasterKey(repository, current, next, options);
    } finally {
      await repository.close();
    }
  } finally {
    await pool?.end();
  }
}

export interface OpenLedger extends LedgerContext {
  readModels: ReadModels;
  runner: ProjectionRunner;
  shredder: Shredder;
  blindIndex: BlindIndex;
  consentLinks: ConsentLinks;
  /** Signs log checkpoints (its private key in LEDGER_AUDIT_KEY_FILE, never in a database). */
  checkpointSigner: CheckpointSigner;
  runProjectionsExclusively: RunExclusively;
  runDeliveryExclusively: RunExclusively;
  runOccurrenceExclusively: RunOccurrenceExclusively;
  /** Read models apart from the ledger's, with a runner folding the same log into them (a verification's). */
  scratchProjections(): Promise<{ readModels: ReadModels; runner: ProjectionRunner; dispose(): Promise<void> }>;
  close(): Promise<void>;
}

/** A command that needs an existing ledger found none where the configuration points; nothing was created. */
export class NoLedger extends Error {
  constructor(where: string, remedy: string) {
    super(`no ledger ${where}: ${remedy}; nothing was created`);
    this.name = 'NoLedger';
  }
}

/**
 * Throws NoLedger unless a ledger was opened here before: on SQLite its events.db in
 * LEDGER_DATA_DIR, on PostgreSQL (and EventStoreDB, whose read models live there) the schema
 * LEDGER_DATABASE_SCHEMA, made by a ledger's first start. Reads only: creates no file, no schema.
 */
async function requireExistingLedger(config: LedgerConfig): Promise<void> {
  if (config.store === 'sqlite') {
    if (existsSync(sqliteFiles(config.dataDir).events)) return;
    throw new NoLedger(`in ${config.dataDir} (no events.db)`, "set LEDGER_DATA_DIR to a ledger's data folder");
  }
  const pool = openPool(config.databaseUrl!, config.databaseApplicationName, config.databaseTimeoutMs, 1);
  try {
    const { rowCount } = await pool.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [config.databaseSchema]);
    if (rowCount === 0) {
      throw new NoLedger(
        `in schema ${config.databaseSchema} of LEDGER_DATABASE_URL (no such schema)`,
        "set LEDGER_DATABASE_URL and LEDGER_DATABASE_SCHEMA to a ledger's",
      );
    }
  } finally {
    await pool.end();
  }
}

export interface OpenLedgerOptions {
  /** Only open a ledger that exists (NoLedger otherwise, creating nothing): what read-only commands ask. */
  existing?: boolean;
}

/** Where the log is, as an operator names it. */
const logNamed = (config: LedgerConfig) =>
  config.store === 'sqlite'
    ? sqliteFiles(config.dataDir).events
    : config.store === 'postgres'
      ? `schema ${config.databaseSchema}`
      : 'EventStoreDB (ESDB_CONNECTION_STRING)';

export async function openLedger(
  config: LedgerConfig,
  log: Logger,
  options: OpenLedgerOptions = {},
): Promise<OpenLedger> {
  if (options.existing) await requireExistingLedger(config);
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  let created: string | null = null;
  const masterKey = loadMasterKey(
    {
      masterKey: config.masterKey,
      masterKeyCommand: config.masterKeyCommand,
      masterKeyFile: config.masterKeyFile,
      defaultKeyFile: join(config.dataDir, 'master.key'),
    },
    (path) => (created = path),
  );
  const files = sqliteFiles(config.dataDir);
  const keysFileNew = config.store === 'sqlite' && !existsSync(files.keys);
  // PostgreSQL retries a failed wipe of destroyed keys every minute, out of any request: said here.
  const backend = await openBackend(config, {
    onWipeFailed: (error) =>
      log.warn(
        { error: error.message },
        'the wipe of destroyed keys from the keys table failed: tried again in a minute',
      ),
  });
  const { store } = backend;
  const head = await store.headPosition();
  const held = await backend.keys.holdings();
  const missing =
    head > 0 && !held.masterKey && !held.scopes
      ? new MissingKeyStore(config.store === 'sqlite' ? files.keys : `schema ${config.keysSchema}`, head)
      : head === 0 && held.scopes
        ? new MissingLog(logNamed(config))
        : null;
  if (missing) {
    await backend.close();
    // Not left behind: an empty keys.db would look like the ledger's own to the next start.
    if (missing instanceof MissingKeyStore && keysFileNew) {
      for (const suffix of ['', '-wal', '-shm']) rmSync(`${files.keys}${suffix}`, { force: true });
    }
    if (created !== null) rmSync(created);
    throw missing;
  }
  const keys = new KeyStore(backend.keys, masterKey);
  try {
    await keys.checkMasterKey();
  } catch (error) {
    await backend.close();
    if (created === null || !(error instanceof WrongMasterKey)) throw error;
    // A new data folder beside an existing ledger: the key just made wraps nothing, and must not linger.
    rmSync(created);
    throw new WrongMasterKey(error.recordedId, `a new one, created in ${created} and removed`);
  }
  if (created !== null) {
    log.warn(
      { path: created },
      'created a new master key file (mode 0600): back it up apart from the data, losing it loses every sealed field',
    );
  }
  const checkpointSigner = CheckpointSigner.fromFile(config.auditKeyFile);
  let journal: ForgetJournal;
  try {
    const forgettings = await store.readByTypes(FORGETTING_TYPES, { after: 0, limit: 1 });
    journal = ForgetJournal.open(config.forgetJournal, checkpointSigner, {
      onTorn: (bytes) =>
        log.warn({ path: config.forgetJournal, bytes }, 'cut off an unfinished last entry of the forget journal'),
      logHoldsForgettings: forgettings.length > 0,
    });
  } catch (error) {
    await backend.close();
    throw error;
  }
  // Before anything is appended (the journal's forgettings below, a command, the API): a subscriber's
  // checkpoint beyond the head of a log restored from an older copy is brought back to it.
  const rewound = await rewindDeliveryToLog({ store, readModels: { delivery: backend.readModels } });
  if (rewound.length > 0) {
    log.warn(
      { subscribers: rewound, head },
      'delivery checkpoints beyond the log (a restore?): brought back to its head',
    );
  }
  const shredder = new Shredder(store, keys, journal);
  const reconciled = await shredder.reconcile();
  if (reconciled.reappended > 0) {
    log.warn(reconciled, 'the forget journal appended again forgettings the log lacked (a restored log)');
  } else if (reconciled.keysDestroyed > 0) log.warn(reconciled, 'start-up pass destroyed keys of forgotten scopes');
  // A shred's wipe held back by a reader of the keys' files, or cut short by a failure or a crash, is done
  // now; one that cannot be is retried (PostgreSQL: every minute), never a reason not to start.
  const wipe = await keys.wipeShredded().catch((error: unknown) => (error instanceof Error ? error.message : 'failed'));
  if (wipe !== 'wiped') {
    log.warn(
      { wipe },
      'bytes of destroyed keys are still in the keys files (a session, a dump or a backup holds them): ' +
        'wiped once it has ended',
    );
  }
  const rowProofs = new RowProofs(masterKey);
  const readModels = new ReadModels(backend.readModels, rowProofs);
  const blindIndex = new BlindIndex(masterKey);
  let closing: Promise<void> | null = null;
  const runnerOf = (models: ReadModels) =>
    new ProjectionRunner(store, models, {
      emailHashes: emailHashes(keys, blindIndex),
      bulkPages: pagesFromWorker(config, masterKey),
      onLogMismatch: config.onLogMismatch,
    });
  return {
    store,
    keys,
    now: () => new Date(),
    newId: uuidv7,
    readModels,
    runner: runnerOf(readModels),
    scratchProjections: async () => {
      const scratch = await backend.scratchReadModels();
      const models = new ReadModels(scratch.store, rowProofs);
      return { readModels: models, runner: runnerOf(models), dispose: scratch.dispose };
    },
    shredder,
    blindIndex,
    consentLinks: new ConsentLinks(masterKey),
    checkpointSigner,
    runProjectionsExclusively: backend.runProjectionsExclusively,
    runDeliveryExclusively: backend.runDeliveryExclusively,
    runOccurrenceExclusively: backend.runOccurrenceExclusively,
    close: () => (closing ??= rowProofs.close().then(() => backend.close())),
  };
}
