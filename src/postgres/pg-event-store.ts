import { hash } from 'node:crypto';
import pg from 'pg';
import { LRUCache } from 'lru-cache';
import { Subject, interval, merge, type Observable } from 'rxjs';
import { NEW_STREAM, outcomeOf, planGroup, type StreamHead } from '../store/append-plan.js';
import { GENESIS_HASH, type LogVersion } from '../crypto/hash-chain.js';
import { COLUMNS, FACT_COLUMNS, sqlList, typeIndexesSql } from '../store/sql.js';
import { subscribeTo } from '../store/catch-up.js';
import { GroupCommit, type Settled } from '../store/group-commit.js';
import type { SealedPart } from '../crypto/seal.js';
import type {
  AppendOutcome,
  EventFact,
  EventIndexes,
  EventStore,
  EventToAppend,
  ReadAllOptions,
  StoredEvent,
  SubscribeOptions,
} from '../store/event-store.js';
import { createSchema, inTransaction, LedgerClient, schemaIdentifier, type LedgerPool } from './database.js';

type FactRow = [
  string,
  string,
  string,
  string,
  string,
  string,
  Record<string, unknown>,
  string | null,
  string | null,
  string | null,
  string | null,
  string[] | null,
];
type EventRow = [...FactRow, number, string, string, string, string | null, number | null];

const sealedPart = (row: FactRow | EventRow): SealedPart | null =>
  row[7] === null ? null : { keyId: row[7], iv: row[8]!, tag: row[9]!, ciphertext: row[10]!, fields: row[11]! };

const toFact = (row: FactRow): EventFact => ({
  id: row[1],
  type: row[3],
  stream: row[2],
  position: Number(row[0]),
  occurredAt: row[4],
  organizationId: row[5],
  data: row[6],
  sealed: sealedPart(row),
});

// Written out rather than spread over toFact: a spread object literal reads at half the speed.
const toStored = (row: EventRow): StoredEvent => ({
  id: row[1],
  type: row[3],
  stream: row[2],
  revision: row[12],
  position: Number(row[0]),
  occurredAt: row[4],
  recordedAt: row[13],
  organizationId: row[5],
  data: row[6],
  sealed: sealedPart(row),
  prevHash: row[14],
  hash: row[15],
  logHash: row[16],
  // A chained record without a version was written before versions (LogVersion 1).
  logVersion: row[16] === null ? null : ((row[17] ?? 1) as LogVersion),
});

/**
 * Tables of the event store in `schema`. `data` and the sealed field list are `json` (the text as
 * written, unlike jsonb, which refuses \u0000 in strings); `stream` sorts bytewise (COLLATE "C"),
 * as the (stream, revision) cursors of a rebuild expect. `head` is the one-row write lock and
 * position counter, and holds the global chain's last link.
 */
const ddl = (s: string, { types = [], mentions, fences = [] }: EventIndexes) => `
  CREATE TABLE IF NOT EXISTS ${s}.events (
    position bigint PRIMARY KEY,
    id text NOT NULL UNIQUE,
    stream text COLLATE "C" NOT NULL,
    revision integer NOT NULL,
    type text NOT NULL,
    occurred_at text NOT NULL,
    recorded_at text NOT NULL,
    organization_id text NOT NULL,
    data json NOT NULL,
    sealed_key_id text,
    sealed_iv text,
    sealed_tag text,
    sealed_ciphertext text,
    sealed_fields json,
    prev_hash text NOT NULL,
    hash text NOT NULL,
    log_hash text,
    log_version smallint,
    UNIQUE (stream, revision));
  CREATE TABLE IF NOT EXISTS ${s}.head (
    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    position bigint NOT NULL,
    log_hash text);
  INSERT INTO ${s}.head (position) VALUES (0) ON CONFLICT DO NOTHING;
  -- Ledgers made before the global chain: it starts at their next record (see logLink). Only when
  -- the column is missing: an ALTER locks the table whole, against the appends of running processes.
  DO $$ BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = '${s}.events'::regclass AND attname = 'log_hash') THEN
      ALTER TABLE ${s}.events ADD COLUMN IF NOT EXISTS log_hash text;
      ALTER TABLE ${s}.head ADD COLUMN IF NOT EXISTS log_hash text;
    END IF;
    -- Ledgers made before log versions: their records are of version 1 (see LogVersion).
    IF NOT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = '${s}.events'::regclass AND attname = 'log_version') THEN
      ALTER TABLE ${s}.events ADD COLUMN IF NOT EXISTS log_version smallint;
    END IF;
  END $$;
  ${typeIndexesSql(`${s}.events`, types)}
  ${
    fences.length > 0
      ? `CREATE INDEX IF NOT EXISTS events_fencing ON ${s}.events (stream) WHERE type IN (${sqlList(fences)});`
      : ''
  }
  ${
    mentions
      ? `CREATE INDEX IF NOT EXISTS events_by_mention ON ${s}.events ((data->>${sqlList([mentions.field])}), position)
         WHERE type IN (${sqlList(mentions.types)});`
      : ''
  }`;

export interface PgEventStoreOptions {
  /** A connection string or connectionOptions, for the dedicated LISTEN connection of live subscriptions. */
  connection: string | pg.ClientConfig;
  schema: string;
  /** Partial indexes, so the other appends pay nothing for them. */
  indexes?: EventIndexes;
  /** Poll interval, a fallback for notifications lost while the LISTEN connection reconnects. */
  pollMs?: number;
  now?: () => Date;
}

/**
 * The PostgreSQL event store. Appends take the `head` row lock (SELECT ... FOR UPDATE) before
 * they read stream heads and assign positions, and hold it until COMMIT: appends commit one after
 * the other in position order, across processes and machines, so a reader never sees position
 * n + 1 before n, and no gap is ever skipped. Concurrent calls of one process share a transaction
 * (group commit), so the lock costs one round of commits per group, not per call.
 */
export class PgEventStore implements EventStore {
  readonly densePositions = true;
  private readonly s: string;
  private readonly channel: string;
  private readonly appended = new Subject<void>();
  private readonly notified = new Subject<void>();
  readonly wakeUps: Observable<unknown>;
  private readonly writer: GroupCommit<readonly EventToAppend[], AppendOutcome>;
  private readonly now: () => Date;
  /** Stream heads this process wrote last; valid while the head position is the one it left. */
  private readonly heads = new LRUCache<string, StreamHead>({ max: 100_000 });
  private lastWrittenHead = -1;
  private listener: LedgerClient | null = null;
  private closed = false;

  private constructor(
    private readonly pool: LedgerPool,
    private readonly options: PgEventStoreOptions,
  ) {
    this.s = schemaIdentifier(options.schema);
    this.channel = `contact_ledger_${options.schema}`;
    this.now = options.now ?? (() => new Date());
    this.writer = new GroupCommit((calls) => this.appendGroup(calls));
    this.wakeUps = merge(this.appended, this.notified, interval(options.pollMs ?? 1000));
  }

  static async open(pool: LedgerPool, options: PgEventStoreOptions): Promise<PgEventStore> {
    await createSchema(pool, options.schema, ddl(schemaIdentifier(options.schema), options.indexes ?? {}));
    const store = new PgEventStore(pool, options);
    await store.listen();
    return store;
  }

  /** A dedicated connection LISTENs for appends of other processes; it reconnects if lost. */
  private async listen(): Promise<void> {
    if (this.closed) return;
    const client = new LedgerClient(this.options.connection);
    const reconnect = () => {
      if (this.listener !== client) return;
      this.listener = null;
      client.end().catch(() => {});
      setTimeout(() => void this.listen().catch(reconnect), 1000).unref();
    };
    client.on('error', reconnect);
    client.on('end', reconnect);
    client.on('notification', () => this.notified.next());
    this.listener = client;
    await client.connect();
    await client.query(`LISTEN "${this.channel}"`);
    this.notified.next(); // appends made while not listening
  }

  append(events: readonly EventToAppend[]): Promise<AppendOutcome> {
    return this.writer.submit(events);
  }

  private async appendGroup(calls: Array<readonly EventToAppend[]>): Promise<Settled<AppendOutcome>[]> {
    try {
      const settled = await inTransaction(this.pool, async (client) => {
        const {
          rows: [lock],
        } = await client.query<{ position: string; log_hash: string | null }>(
          `SELECT position, log_hash FROM ${this.s}.head FOR UPDATE`,
        );
        const head = Number(lock!.position);
        if (head !== this.lastWrittenHead) this.heads.clear(); // another process appended
        const state = await this.appendState(client, calls);
        const recordedAt = this.now().toISOString();
        const group = planGroup(calls, state, { position: head, logHash: lock!.log_hash ?? GENESIS_HASH }, recordedAt);
        const { placed: planned, tail } = group;
        if (planned.length > 0) {
          await client.query(
            // One statement (one round trip) inserts, moves the head and notifies listeners at COMMIT.
            `WITH inserted AS (
               INSERT INTO ${this.s}.events (position, id, stream, revision, type, occurred_at, recorded_at,
                 organization_id, data, prev_hash, hash, sealed_key_id, sealed_iv, sealed_tag, sealed_ciphertext,
                 sealed_fields, log_hash, log_version)
               SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::int[], $5::text[], $6::text[],
                 $7::text[], $8::text[], $9::json[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[],
                 $15::text[], $16::json[], $17::text[], $18::smallint[])
               RETURNING 1),
             moved AS (UPDATE ${this.s}.head SET position = $19::bigint, log_hash = $20 RETURNING 1)
             SELECT pg_notify($21, $19::bigint::text) FROM moved`,
            [
              planned.map((e) => e.position),
              planned.map((e) => e.id),
              planned.map((e) => e.stream),
              planned.map((e) => e.revision),
              planned.map((e) => e.type),
              planned.map((e) => e.occurredAt),
              planned.map((e) => e.recordedAt),
              planned.map((e) => e.organizationId),
              planned.map((e) => JSON.stringify(e.data)),
              planned.map((e) => e.prevHash),
              planned.map((e) => e.hash),
              planned.map((e) => e.sealed?.keyId ?? null),
              planned.map((e) => e.sealed?.iv ?? null),
              planned.map((e) => e.sealed?.tag ?? null),
              planned.map((e) => e.sealed?.ciphertext ?? null),
              planned.map((e) => (e.sealed ? JSON.stringify(e.sealed.fields) : null)),
              planned.map((e) => e.logHash),
              planned.map((e) => e.logVersion),
              tail.position,
              tail.logHash,
              this.channel,
            ],
          );
        }
        return { outcomes: group.calls.map(outcomeOf), heads: group.heads, head: tail.position };
      });
      this.lastWrittenHead = settled.head;
      for (const [stream, streamHead] of settled.heads) this.heads.set(stream, streamHead);
      if (settled.outcomes.some((outcome) => outcome.ok && outcome.value.appended.length > 0)) this.appended.next();
      return settled.outcomes;
    } catch (error) {
      this.heads.clear();
      throw error;
    }
  }

  /** Stored ids and stream heads of a group's events, read under the head lock. */
  private async appendState(client: pg.PoolClient, calls: Array<readonly EventToAppend[]>) {
    const events = calls.flat();
    const streams = [...new Set(events.map((event) => event.stream))].filter((stream) => !this.heads.has(stream));
    const fences = this.options.indexes?.fences ?? [];
    const sealedStreams = [...new Set(events.filter((event) => event.sealed !== null).map((event) => event.stream))];
    // One client runs one query at a time (pg queues the others anyway, and pg@9 refuses them).
    const stored = await client.query<{ id: string; stream: string; type: string }>(
      `SELECT id, stream, type FROM ${this.s}.events WHERE id = ANY($1::text[])`,
      [events.map((event) => event.id)],
    );
    const heads =
      streams.length === 0
        ? { rows: [] }
        : await client.query<{ stream: string; revision: number; hash: string }>(
            `SELECT h.stream, h.revision, h.hash FROM unnest($1::text[]) AS wanted(stream)
         CROSS JOIN LATERAL (SELECT stream, revision, hash FROM ${this.s}.events e WHERE e.stream = wanted.stream
                             ORDER BY revision DESC LIMIT 1) h`,
            [streams],
          );
    const fenced =
      fences.length === 0 || sealedStreams.length === 0
        ? { rows: [] }
        : await client.query<{ stream: string; id: string }>(
            `SELECT DISTINCT ON (stream) stream, id FROM ${this.s}.events
             WHERE stream = ANY($1::text[]) AND type IN (${sqlList(fences)})`,
            [sealedStreams],
          );
    const byId = new Map(stored.rows.map((row) => [row.id, row]));
    const fetched = new Map(heads.rows.map((row) => [row.stream, { revision: row.revision, hash: row.hash }]));
    const fencedBy = new Map(fenced.rows.map((row) => [row.stream, row.id]));
    return {
      stored: (id: string) => byId.get(id),
      head: (stream: string) => this.heads.get(stream) ?? fetched.get(stream) ?? NEW_STREAM,
      fencedBy: (stream: string) => fencedBy.get(stream),
      fences,
    };
  }

  /** Reads are named (prepared once per connection); the name is a digest of the text, always short. */
  private async rows<R extends unknown[], E>(text: string, values: unknown[], map: (row: R) => E): Promise<E[]> {
    const name = `ledger_${hash('sha1', text, 'hex').slice(0, 20)}`;
    const result = await this.pool.query<R>({ name, text, values, rowMode: 'array' });
    return result.rows.map(map);
  }

  readStream(stream: string): Promise<StoredEvent[]> {
    return this.rows(`SELECT ${COLUMNS} FROM ${this.s}.events WHERE stream = $1 ORDER BY revision`, [stream], toStored);
  }

  readAll(options: ReadAllOptions = {}): Promise<StoredEvent[]> {
    return this.rows(
      `SELECT ${COLUMNS} FROM ${this.s}.events WHERE position > $1 ORDER BY position LIMIT $2`,
      [options.after ?? 0, options.limit ?? 1000],
      toStored,
    );
  }

  readFacts(options: ReadAllOptions = {}): Promise<EventFact[]> {
    return this.rows(
      `SELECT ${FACT_COLUMNS} FROM ${this.s}.events WHERE position > $1 ORDER BY position LIMIT $2`,
      [options.after ?? 0, options.limit ?? 1000],
      toFact,
    );
  }

  readMentions(contactId: string): Promise<StoredEvent[]> {
    const mentions = this.options.indexes?.mentions;
    if (!mentions) throw new Error('this store keeps no mention index (EventIndexes.mentions)');
    const text = `SELECT ${COLUMNS} FROM ${this.s}.events
      WHERE type IN (${sqlList(mentions.types)}) AND data->>${sqlList([mentions.field])} = $1 ORDER BY position`;
    return this.rows(text, [contactId], toStored);
  }

  async headsOf(items: ReadonlyArray<{ stream: string; mentioned: string }>): Promise<Array<number | null>> {
    const mentions = this.options.indexes?.mentions;
    if (!mentions) throw new Error('this store keeps no mention index (EventIndexes.mentions)');
    const mentioned = `type IN (${sqlList(mentions.types)}) AND data->>${sqlList([mentions.field])} = item.mentioned`;
    const text = `SELECT greatest(
        coalesce((SELECT position FROM ${this.s}.events WHERE stream = item.stream ORDER BY revision DESC LIMIT 1), 0),
        coalesce((SELECT max(position) FROM ${this.s}.events WHERE ${mentioned}), 0)
      ) AS head
      FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS item(stream, mentioned, n) ORDER BY item.n`;
    const values = [items.map((item) => item.stream), items.map((item) => item.mentioned)];
    return this.rows(text, values, ([head]: [string]) => Number(head));
  }

  async readEvent(id: string): Promise<StoredEvent | null> {
    return (await this.rows(`SELECT ${COLUMNS} FROM ${this.s}.events WHERE id = $1`, [id], toStored))[0] ?? null;
  }

  readByTypes(types: readonly string[], options: ReadAllOptions = {}): Promise<StoredEvent[]> {
    // Literal list, written as the partial index's, so the planner can use that index.
    const text = `SELECT ${COLUMNS} FROM ${this.s}.events WHERE type IN (${sqlList(types)}) AND position > $1
      ORDER BY position LIMIT $2`;
    return this.rows(text, [options.after ?? 0, options.limit ?? 1000], toStored);
  }

  subscribe(options: SubscribeOptions = {}): Observable<StoredEvent> {
    return subscribeTo(this, options);
  }

  async headPosition(): Promise<number> {
    const {
      rows: [row],
    } = await this.pool.query<{ position: string }>(`SELECT position FROM ${this.s}.head`);
    return Number(row?.position ?? 0);
  }

  /** Ends the LISTEN connection; the pool belongs to whoever opened it. */
  async close(): Promise<void> {
    this.closed = true;
    this.appended.complete();
    this.notified.complete();
    const listener = this.listener;
    this.listener = null;
    await listener?.end().catch(() => {});
  }
}
