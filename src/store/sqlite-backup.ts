import Database from 'better-sqlite3';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { ValidationError } from '../domain/errors.js';
import { fsyncPath } from '../fsync.js';

/** The embedded ledger's files, as `sqliteFiles` names them. */
export interface SqliteLedgerFiles {
  events: string;
  keys: string;
  state: string;
}

export interface SqliteBackup {
  folder: string;
  /** The log's last position in the copy. */
  position: number;
  /** In the order they were copied. */
  files: Array<{ name: string; bytes: number }>;
}

/**
 * A consistent copy of one SQLite file while other processes write it: VACUUM INTO reads one
 * snapshot (a WAL reader never blocks the writer nor waits for it), where the online backup API
 * starts over whenever another connection writes, which under steady appends may never end.
 */
function copySnapshot(source: string, target: string): void {
  const db = new Database(source, { readonly: true, fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    db.prepare('VACUUM INTO ?').run(target);
  } finally {
    db.close();
  }
  fsyncPath(target); // VACUUM INTO does not sync what it wrote
}

/**
 * `ledger backup` on the embedded ledger: state.db, then events.db, then keys.db, each its own
 * file, so that events and keys can be kept apart, and the folder is a data folder.
 * - events.db before keys.db: every key an event of the copied log needs is in the copied keys,
 *   unless a forgetting shredded it in between, which the forget journal re-applies at start.
 * - state.db first: its checkpoint is then never beyond the copied log's head, so a restore only
 *   catches up instead of rebuilding every read model (which it could, so state.db is a speed-up).
 * Never the master key, the audit key nor the forget journal: secrets and the journal are kept
 * apart from data backups.
 */
export function backupSqliteLedger(files: SqliteLedgerFiles, folder: string): SqliteBackup {
  for (const path of [files.events, files.keys]) {
    if (!existsSync(path)) throw new ValidationError(`no ledger to back up: ${path} does not exist (LEDGER_DATA_DIR)`);
  }
  if (existsSync(folder) && (!statSync(folder).isDirectory() || readdirSync(folder).length > 0)) {
    throw new ValidationError(`${folder} exists and is not an empty folder: back up into a new one`);
  }
  mkdirSync(folder, { recursive: true, mode: 0o700 });
  const order = [...(existsSync(files.state) ? [files.state] : []), files.events, files.keys];
  const copied: SqliteBackup['files'] = [];
  try {
    for (const source of order) {
      const target = join(folder, basename(source));
      copySnapshot(source, target);
      copied.push({ name: basename(source), bytes: statSync(target).size });
    }
    fsyncPath(folder);
  } catch (error) {
    // A partial copy is no data folder: leave nothing that could be mistaken for one.
    for (const source of order) rmSync(join(folder, basename(source)), { force: true });
    throw error;
  }
  return { folder, position: headOf(join(folder, basename(files.events))), files: copied };
}

function headOf(eventsFile: string): number {
  const db = new Database(eventsFile, { readonly: true, fileMustExist: true });
  try {
    return (db.prepare('SELECT coalesce(max(position), 0) FROM events').pluck().get() as number) ?? 0;
  } finally {
    db.close();
  }
}
