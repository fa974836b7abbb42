import Database from 'better-sqlite3';
import { sqlList, typeIndexesSql } from './sql.js';
import type { EventIndexes, StoredEvent } from './event-store.js';

/**
 * Inserts one row: position, id, stream, revision, type, occurred_at, recorded_at, organization_id,
 * data, prev_hash, hash, log_hash, log_version, sealed columns.
 */
export const INSERT_EVENT = `INSERT INTO events (position, id, stream, revision, type, occurred_at, recorded_at,
  organization_id, data, prev_hash, hash, log_hash, log_version, sealed_key_id, sealed_iv, sealed_tag,
  sealed_ciphertext, sealed_fields)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;

/** What a row of events holds. */
export type EventRow = Pick<
  StoredEvent,
  | 'position'
  | 'id'
  | 'stream'
  | 'revision'
  | 'type'
  | 'occurredAt'
  | 'recordedAt'
  | 'organizationId'
  | 'data'
  | 'prevHash'
  | 'hash'
  | 'logHash'
  | 'logVersion'
  | 'sealed'
>;

/** The values of INSERT_EVENT, in its order; the sealed part as its five columns (all null without one). */
export const insertValues = (event: EventRow): unknown[] => {
  const { sealed } = event;
  return [
    event.position,
    event.id,
    event.stream,
    event.revision,
    event.type,
    event.occurredAt,
    event.recordedAt,
    event.organizationId,
    JSON.stringify(event.data),
    event.prevHash,
    event.hash,
    event.logHash,
    event.logVersion,
    ...(sealed === null
      ? [null, null, null, null, null]
      : [sealed.keyId, sealed.iv, sealed.tag, sealed.ciphertext, JSON.stringify(sealed.fields)]),
  ];
};

/**
 * Opens events.db with its durability settings and schema: WAL with synchronous=FULL, so an
 * acknowledged append survives a power cut. Opened by the store (reads), its writer thread
 * (appends) and the benchmark's raw-insert baseline.
 */
export function openEventsDb(path: string, indexes: EventIndexes = {}, pageCacheMb = 16): Database.Database {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('busy_timeout = 10000');
  // A 16 MB page cache (the default) holds the hot index pages; more cost memory without a measurable gain
  // (BENCHMARKS.md). A larger WAL between checkpoints writes each hot page to the database once
  // per checkpoint, not per batch. Neither weakens durability: every commit is still fsynced.
  db.pragma(`cache_size = ${-1024 * pageCacheMb}`);
  db.pragma('wal_autocheckpoint = 10000');
  db.exec(`
    CREATE TABLE IF NOT EXISTS events (
      position INTEGER PRIMARY KEY,
      id TEXT NOT NULL UNIQUE,
      stream TEXT NOT NULL,
      revision INTEGER NOT NULL,
      type TEXT NOT NULL,
      occurred_at TEXT NOT NULL,
      recorded_at TEXT NOT NULL,
      organization_id TEXT NOT NULL,
      data TEXT NOT NULL,
      sealed_key_id TEXT,
      sealed_iv TEXT,
      sealed_tag TEXT,
      sealed_ciphertext TEXT,
      sealed_fields TEXT,
      prev_hash TEXT NOT NULL,
      hash TEXT NOT NULL,
      log_hash TEXT,
      log_version INTEGER,
      UNIQUE (stream, revision));`);
  addChainColumns(db);
  db.exec(typeIndexesSql('events', indexes.types ?? []));
  if (indexes.fences && indexes.fences.length > 0) {
    db.exec(`CREATE INDEX IF NOT EXISTS events_fencing ON events (stream) WHERE type IN (${sqlList(indexes.fences)})`);
  }
  if (indexes.mentions) {
    const { types, field } = indexes.mentions;
    db.exec(
      `CREATE INDEX IF NOT EXISTS events_by_mention ON events (${mentionedSql(field)}, position)
       WHERE type IN (${sqlList(types)})`,
    );
  }
  return db;
}

/** The mentioned id of an event, as the mention index and its reads write it. */
export const mentionedSql = (field: string) => `json_extract(data, '$.${field}')`;

/**
 * events.db files made before the global chain lack its columns: they are added, empty for the
 * records already there (the chain starts at the first record that has a log_hash; one without a
 * log_version is of version 1, see LogVersion). Two processes may open the same old file at once:
 * the loser of the race finds the column there.
 */
function addChainColumns(db: Database.Database): void {
  const columns = new Set((db.pragma('table_info(events)') as Array<{ name: string }>).map((column) => column.name));
  const chain = [
    ['log_hash', 'TEXT'],
    ['log_version', 'INTEGER'],
  ] as const;
  for (const [name, type] of chain) {
    if (columns.has(name)) continue;
    try {
      db.exec(`ALTER TABLE events ADD COLUMN ${name} ${type}`);
    } catch (error) {
      if (!String(error).includes('duplicate column name')) throw error;
    }
  }
}
