import Database from 'better-sqlite3';
import { Subject, interval, merge, type Observable } from 'rxjs';
import { ConcurrencyConflict, IdempotencyConflict } from '../domain/errors.js';
import { GENESIS_HASH, chainHash } from '../crypto/hash-chain.js';
import { catchUpSubscription } from './catch-up.js';
import type { AppendOutcome, EventStore, EventToAppend, ReadAllOptions, StoredEvent } from './event-store.js';

interface EventRow {
  position: number;
  id: string;
  stream: string;
  revision: number;
  type: string;
  occurred_at: string;
  recorded_at: string;
  organization_id: string;
  data: string;
  sealed: string | null;
  prev_hash: string;
  hash: string;
}

const toStored = (row: EventRow): StoredEvent => ({
  id: row.id,
  type: row.type,
  stream: row.stream,
  revision: row.revision,
  position: row.position,
  occurredAt: row.occurred_at,
  recordedAt: row.recorded_at,
  organizationId: row.organization_id,
  data: JSON.parse(row.data) as Record<string, unknown>,
  sealed: row.sealed === null ? null : JSON.parse(row.sealed),
  prevHash: row.prev_hash,
  hash: row.hash,
});

export interface SqliteEventStoreOptions {
  /** Poll interval that notices appends made by other processes on the same file. */
  pollMs?: number;
  now?: () => Date;
}

/**
 * events.db: WAL with synchronous=FULL, so an acknowledged append survives a power cut.
 * Throughput comes from appending whole batches in one IMMEDIATE transaction (one fsync).
 */
export class SqliteEventStore implements EventStore {
  private readonly db: Database.Database;
  private readonly appended = new Subject<void>();
  private readonly wakeUps: Observable<unknown>;
  private readonly now: () => Date;
  private readonly statements;

  constructor(path: string, options: SqliteEventStoreOptions = {}) {
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma('busy_timeout = 10000');
    this.db.exec(`
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
        sealed TEXT,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL,
        UNIQUE (stream, revision));
      CREATE INDEX IF NOT EXISTS events_by_type ON events (type, position);`);
    this.now = options.now ?? (() => new Date());
    this.wakeUps = merge(this.appended, interval(options.pollMs ?? 500));
    this.statements = {
      byId: this.db.prepare<[string], { stream: string; type: string }>('SELECT stream, type FROM events WHERE id = ?'),
      head: this.db.prepare<[string], { revision: number; hash: string }>(
        'SELECT revision, hash FROM events WHERE stream = ? ORDER BY revision DESC LIMIT 1',
      ),
      insert: this.db.prepare(
        `INSERT INTO events (id, stream, revision, type, occurred_at, recorded_at, organization_id, data, sealed, prev_hash, hash)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      stream: this.db.prepare<[string], EventRow>('SELECT * FROM events WHERE stream = ? ORDER BY revision'),
      all: this.db.prepare<[number, number], EventRow>('SELECT * FROM events WHERE position > ? ORDER BY position LIMIT ?'),
      maxPosition: this.db.prepare<[], { position: number | null }>('SELECT MAX(position) AS position FROM events'),
    };
  }

  async append(events: readonly EventToAppend[]): Promise<AppendOutcome> {
    const outcome = this.db.transaction((batch: readonly EventToAppend[]): AppendOutcome => {
      const recordedAt = this.now().toISOString();
      const heads = new Map<string, { revision: number; hash: string }>();
      const result: AppendOutcome = { appended: [], duplicates: [] };
      batch.forEach((event, index) => {
        const existing = this.statements.byId.get(event.id);
        if (existing) {
          if (existing.stream !== event.stream || existing.type !== event.type) throw new IdempotencyConflict(event.id, index);
          result.duplicates.push(event.id);
          return;
        }
        const head = heads.get(event.stream) ?? this.statements.head.get(event.stream) ?? { revision: -1, hash: GENESIS_HASH };
        if (event.expectedRevision !== undefined && event.expectedRevision !== head.revision) {
          throw new ConcurrencyConflict(event.stream, event.expectedRevision, head.revision);
        }
        const revision = head.revision + 1;
        const hash = chainHash({ ...event, revision, prevHash: head.hash });
        const { lastInsertRowid } = this.statements.insert.run(
          event.id, event.stream, revision, event.type, event.occurredAt, recordedAt, event.organizationId,
          JSON.stringify(event.data), event.sealed === null ? null : JSON.stringify(event.sealed), head.hash, hash,
        );
        heads.set(event.stream, { revision, hash });
        result.appended.push({ id: event.id, stream: event.stream, revision, position: Number(lastInsertRowid) });
      });
      return result;
    });
    // IMMEDIATE takes the write lock before reading the stream heads, so two writers (processes
    // or connections) cannot both read the same head; the UNIQUE (stream, revision) is the backstop.
    const result = outcome.immediate(events);
    if (result.appended.length > 0) this.appended.next();
    return result;
  }

  async readStream(stream: string): Promise<StoredEvent[]> {
    return this.statements.stream.all(stream).map(toStored);
  }

  async readAll(options: ReadAllOptions = {}): Promise<StoredEvent[]> {
    return this.statements.all.all(options.after ?? 0, options.limit ?? 1000).map(toStored);
  }

  async readByTypes(types: readonly string[], options: ReadAllOptions = {}): Promise<StoredEvent[]> {
    const placeholders = types.map(() => '?').join(', ');
    return this.db
      .prepare<unknown[], EventRow>(
        `SELECT * FROM events WHERE type IN (${placeholders}) AND position > ? ORDER BY position LIMIT ?`,
      )
      .all(...types, options.after ?? 0, options.limit ?? 1000)
      .map(toStored);
  }

  subscribe(options: { after?: number } = {}): Observable<StoredEvent> {
    return catchUpSubscription((after, limit) => this.readAll({ after, limit }), this.wakeUps, options.after ?? 0);
  }

  async headPosition(): Promise<number> {
    return this.statements.maxPosition.get()?.position ?? 0;
  }

  async close(): Promise<void> {
    this.appended.complete();
    this.db.close();
  }
}
