import type Database from 'better-sqlite3';
import { LRUCache } from 'lru-cache';
import { NEW_STREAM, outcomeOf, planGroup, type PlannedGroup, type StreamHead } from './append-plan.js';
import { GENESIS_HASH, type LogTail } from '../crypto/hash-chain.js';
import type { Settled } from './group-commit.js';
import { INSERT_EVENT, insertValues, openEventsDb } from './events-db.js';
import { sqlList } from './sql.js';
import type { AppendOutcome, EventToAppend } from './event-store.js';

/**
 * The write side of events.db: appends a group of calls in one IMMEDIATE transaction (one fsync),
 * each call planned on its own (planGroup), so that a conflict refuses that call only, before
 * anything of it is written. IMMEDIATE takes the write lock before the stream heads are read, so
 * two processes cannot both read the same head; UNIQUE (stream, revision) is the backstop.
 */
export class SqliteAppender {
  private readonly db: Database.Database;
  private readonly statements;
  private readonly transaction: Database.Transaction<(calls: Array<readonly EventToAppend[]>) => PlannedGroup>;
  /** Last revision and hash of recently written streams: saves a lookup per appended event. */
  private readonly heads = new LRUCache<string, StreamHead>({ max: 100_000 });
  /** The last position and its log hash, as this connection wrote them (null: read them again). */
  private tail: LogTail | null = null;
  private dataVersion = -1;

  /** The reading store created the indexes (`fences`' too): the writer's connection needs none of its own. */
  constructor(path: string, fences: readonly string[] = []) {
    this.db = openEventsDb(path);
    this.statements = {
      byId: this.db.prepare<[string], { stream: string; type: string }>('SELECT stream, type FROM events WHERE id = ?'),
      head: this.db.prepare<[string], { revision: number; hash: string }>(
        'SELECT revision, hash FROM events WHERE stream = ? ORDER BY revision DESC LIMIT 1',
      ),
      insert: this.db.prepare(INSERT_EVENT),
      tail: this.db.prepare<[], { position: number; logHash: string | null }>(
        'SELECT position, log_hash AS logHash FROM events ORDER BY position DESC LIMIT 1',
      ),
      dataVersion: this.db.prepare<[], number>('PRAGMA data_version').pluck(),
      fence:
        fences.length > 0
          ? this.db
              .prepare<[string], string>(
                `SELECT id FROM events WHERE stream = ? AND type IN (${sqlList(fences)}) LIMIT 1`,
              )
              .pluck()
          : null,
    };
    this.transaction = this.db.transaction((calls: Array<readonly EventToAppend[]>) => {
      this.forgetHeadsIfOthersWrote();
      const recordedAt = new Date().toISOString();
      const state = {
        stored: (id: string) => this.statements.byId.get(id),
        head: (stream: string) => this.heads.get(stream) ?? this.statements.head.get(stream) ?? NEW_STREAM,
        fencedBy: (stream: string) => this.statements.fence?.get(stream),
        fences,
      };
      // A call that breaks a rule is refused alone; a failing write fails (rolls back) the group.
      const group = planGroup(calls, state, this.tail ?? this.storedTail(), recordedAt);
      for (const event of group.placed) this.statements.insert.run(...insertValues(event));
      return group;
    });
  }

  /** Appends the calls of a group atomically, one settlement per call; throws if the group's write fails. */
  append(calls: Array<readonly EventToAppend[]>): Settled<AppendOutcome>[] {
    let group;
    try {
      group = this.transaction.immediate(calls);
    } catch (error) {
      // The group did not commit: the cached heads and tail may name rolled-back events.
      this.heads.clear();
      this.tail = null;
      throw error;
    }
    for (const [stream, head] of group.heads) this.heads.set(stream, head);
    this.tail = group.tail;
    return group.calls.map(outcomeOf);
  }

  private storedTail(): LogTail {
    const last = this.statements.tail.get();
    return { position: last?.position ?? 0, logHash: last?.logHash ?? GENESIS_HASH };
  }

  close(): void {
    this.db.close();
  }

  /**
   * The head cache is valid while this connection is the only writer: PRAGMA data_version
   * changes when another connection (another process) commits, and then the cache is dropped.
   * Checked under the write lock, at the start of each group.
   */
  private forgetHeadsIfOthersWrote(): void {
    const version = this.statements.dataVersion.get()!;
    if (version !== this.dataVersion) {
      this.heads.clear();
      this.tail = null;
      this.dataVersion = version;
    }
  }
}
