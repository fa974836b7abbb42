import type { Observable } from 'rxjs';
import type { SealedPart } from '../crypto/seal.js';
import type { LogVersion } from '../crypto/hash-chain.js';

/** An event ready for the store: validated, its personal fields already sealed. */
export interface EventToAppend {
  id: string;
  type: string;
  stream: string;
  occurredAt: string;
  organizationId: string;
  data: Record<string, unknown>;
  sealed: SealedPart | null;
  /** The stream's current revision, or -1 for "must not exist"; absent = any. */
  expectedRevision?: number;
}

/** A stored record (DESIGN.md "Events"): revision is per stream (0-based), position global (1-based). */
export interface StoredEvent {
  id: string;
  type: string;
  stream: string;
  revision: number;
  position: number;
  occurredAt: string;
  recordedAt: string;
  organizationId: string;
  data: Record<string, unknown>;
  sealed: SealedPart | null;
  prevHash: string;
  hash: string;
  /** Link of the global chain (logLink); null where the store keeps none (EventStoreDB, records older than it). */
  logHash: string | null;
  /** The form of logHash (LogVersion: from 2 on it covers recordedAt); null where logHash is null. */
  logVersion: LogVersion | null;
}

/** The fields that chain a record, in its stream and in the log: an auditor's, not a reader's. */
export type ChainFields = 'prevHash' | 'hash' | 'logHash' | 'logVersion';

/**
 * What projections read of a stored event: no chain link, revision or recording time (only
 * verification needs those), so a rebuild fetches and decodes less.
 */
export type EventFact = Omit<StoredEvent, 'revision' | 'recordedAt' | ChainFields>;

export interface AppendOutcome {
  appended: Array<{ id: string; stream: string; revision: number; position: number }>;
  /** Ids already stored for the same stream and type: retries, appended nothing. */
  duplicates: string[];
}

export interface ReadAllOptions {
  /** Exclusive: events with a position greater than this (a checkpoint). Default 0. */
  after?: number;
  limit?: number;
}

/**
 * The indexes a store keeps beside the log, named by the composition root (a store knows no
 * event type).
 */
export interface EventIndexes {
  /** Groups of rare types that `readByTypes` looks up (forgetting; erasure requests), each by a partial index. */
  types?: ReadonlyArray<readonly string[]>;
  /** Events of `types` that name a contact in `data[field]` (a sale's cultural contact), read by `readMentions`. */
  mentions?: { types: readonly string[]; field: string };
  /**
   * Types after which a stream takes no sealed part (the forgetting of a contact): an append that
   * would seal personal data in such a stream is refused (Forgotten), by stream in an index.
   */
  fences?: readonly string[];
}

export interface SubscribeOptions {
  /** Exclusive, as in ReadAllOptions. */
  after?: number;
  /** Only events of these types (a reaction to rare events: forgetting), read as readByTypes reads them. */
  types?: readonly string[];
}

/**
 * The event store port. Every adapter appends atomically per call (all events or none, across
 * streams; EventStoreDB: per stream, see EsdbEventStore), chains each stream's hashes, is
 * idempotent on event id, and maps its native errors to ConcurrencyConflict / IdempotencyConflict.
 */
export interface EventStore {
  /**
   * Whether positions run 1, 2, 3… with no gap (SQLite, PostgreSQL): then a missing position is a
   * removed record. EventStoreDB's are not dense.
   */
  readonly densePositions: boolean;
  append(events: readonly EventToAppend[]): Promise<AppendOutcome>;
  readStream(stream: string): Promise<StoredEvent[]>;
  /** In global order, paged. */
  readAll(options?: ReadAllOptions): Promise<StoredEvent[]>;
  /** Like readAll, without the fields only verification needs: what projections fold. */
  readFacts(options?: ReadAllOptions): Promise<EventFact[]>;
  /**
   * The events of other streams that name a contact (see EventIndexes.mentions), in global order:
   * what the log says of a contact beyond its own stream (the sales it benefited from).
   */
  readMentions(contactId: string): Promise<StoredEvent[]>;
  /**
   * For each item, the position of the last event of `stream` or naming `mentioned` (see
   * EventIndexes.mentions), 0 when there is none: what a read-model row folded from them is checked
   * against. null: the store keeps no index to answer from (EventStoreDB).
   */
  headsOf(items: ReadonlyArray<{ stream: string; mentioned: string }>): Promise<Array<number | null>>;
  /** The event of that id, or null (a subscriber's acknowledgement names the forgetting it acted on). */
  readEvent(id: string): Promise<StoredEvent | null>;
  /** Events of the given types in global order (forgetting events for the start-up shred pass). */
  readByTypes(types: readonly string[], options?: ReadAllOptions): Promise<StoredEvent[]>;
  /** Catches up from `after`, then follows new appends in order; never skips nor repeats. */
  subscribe(options?: SubscribeOptions): Observable<StoredEvent>;
  /**
   * Ticks whenever new events may be readable (an append here, another process's append notified,
   * a poll): what subscriptions, and the projection runner's passes, read the log again on.
   */
  readonly wakeUps: Observable<unknown>;
  /** Position of the last stored event (0 when empty). */
  headPosition(): Promise<number>;
  close(): Promise<void>;
}
