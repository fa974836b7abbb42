import {
  BACKWARDS,
  END,
  EventStoreDBClient,
  FORWARDS,
  NO_STREAM,
  START,
  StreamNotFoundError,
  WrongExpectedVersionError,
  jsonEvent,
  streamNameFilter,
  type AllStreamResolvedEvent,
  type ResolvedEvent,
} from '@eventstore/db-client';
import { Observable, Subject, interval, merge } from 'rxjs';
import { ConcurrencyConflict } from '../domain/errors.js';
import type { StreamKinds } from '../domain/streams.js';
import type { SealedPart } from '../crypto/seal.js';
import { NEW_STREAM, newStagedAppends, planAppend, type AppendState, type PlannedEvent } from '../store/append-plan.js';
import { subscribeTo } from '../store/catch-up.js';
import { pagesAfter } from '../store/pages.js';
import { fromEsdb } from './esdb-errors.js';
import { EsdbStreams } from './esdb-streams.js';
import type {
  AppendOutcome,
  EventStore,
  EventToAppend,
  EventFact,
  EventIndexes,
  ReadAllOptions,
  StoredEvent,
  SubscribeOptions,
} from '../store/event-store.js';

/** What an EventStoreDB event carries besides its id, type and stream (all in the record itself). */
interface LedgerPayload {
  occurredAt: string;
  organizationId: string;
  data: Record<string, unknown>;
  sealed: SealedPart | null;
  prevHash: string;
  hash: string;
  recordedAt: string;
}

export interface EsdbEventStoreOptions {
  /**
   * Prepended to every stream name, so that several ledgers (or test runs) share a cluster; reads
   * of $all keep the streams under it that are of one of `streams`' kinds.
   */
  streamPrefix?: string;
  /** The kinds of stream the ledger writes (LEDGER_STREAMS): what reads of $all keep, what appends accept. */
  streams: StreamKinds;
  /** A fallback poll of the head, besides the live subscription's wake-ups. */
  pollMs?: number;
  now?: () => Date;
  /** What readMentions looks for. EventStoreDB keeps no such index: each read scans $all. */
  mentions?: EventIndexes['mentions'];
  /** EventIndexes.fences, checked against the stream each append reads. */
  fences?: readonly string[];
  /**
   * How long a call may wait for the server (LEDGER_DATABASE_TIMEOUT): the client's default
   * deadline and keep-alive time-out, unless the connection string sets its own.
   */
  deadlineMs?: number;
}

/**
 * The connection string with LEDGER_DATABASE_TIMEOUT as the deadline of every unary call (the
 * client's reads of $all and of streams set none: they last as long as the log) and as the
 * keep-alive that gives up on a silent server: a stalled server is an outage (an error the API
 * answers with 503), not a request that hangs. Settings the string already has are kept.
 */
export function withDeadlines(connectionString: string, deadlineMs: number): string {
  const given = connectionString.toLowerCase();
  const settings = [
    ['defaultDeadline', deadlineMs],
    ['keepAliveTimeout', deadlineMs],
  ].filter(([name]) => !given.includes(`${String(name).toLowerCase()}=`));
  if (settings.length === 0) return connectionString;
  const query = settings.map(([name, value]) => `${name}=${value}`).join('&');
  return `${connectionString}${connectionString.includes('?') ? '&' : '?'}${query}`;
}

/** The stream's revision as the server reported it in the conflict (-1: the stream does not exist). */
const actualRevision = (error: WrongExpectedVersionError): number =>
  typeof error.actualVersion === 'bigint' ? Number(error.actualVersion) : -1;

/**
 * Retries of an append without expectedRevision when another writer moved a stream head meanwhile
 * (no writer lock serializes appends here), each after a random pause of up to 2^attempt ms: many
 * writers on the same streams (two nodes publishing) then get through rather than answering a
 * conflict to a caller that asked for no revision.
 */
const APPEND_RETRIES = 12;
const pauseBeforeRetry = (attempt: number) =>
  new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(250, 2 ** attempt)));

/**
 * The event store on EventStoreDB 20+ / KurrentDB (@eventstore/db-client 6.x). A ledger stream is
 * an EventStoreDB stream; the global position is the event's commit position in $all (increasing,
 * not dense: the lag in /health is then in log bytes); readAll, readFacts, readByTypes,
 * headPosition and the live subscription read $all kept to the ledger's streams, every kind of
 * them (EsdbStreams): the projections, the auditors' replay and the verification see purposes,
 * API keys, schedules, batch runs and audit checkpoints as they see contacts.
 *
 * Atomicity, the difference the port allows and README.md and the API document state: a call is
 * all or none per stream, not across its streams. The whole call is planned before anything is
 * written (every stream read, every rule of planAppend checked: a wrong expectedRevision, a
 * fenced stream, a re-used id in those streams refuse the call with nothing appended); then each
 * stream's part is written with the revision its chain was computed against, so a chain never
 * forks. What can still split a call is the server: a stream's write that fails after another's
 * succeeded (an outage, or a writer that moved a stream with an expectedRevision meanwhile)
 * leaves the streams written before it. Such a call can be retried as is: ids already stored are
 * reported as duplicates. Why not made atomic here: the gRPC API of EventStoreDB 20–24 has no
 * multi-stream write, and an atomic batch built above it (a batch stream written first, then
 * copied into each stream by a resumable reaction) would make every append wait for a second
 * write and every reader skip half-copied batches: not small, and not provable without a server
 * to test it on. `@kurrent/kurrentdb-client`'s multiStreamAppend (KurrentDB 25.1+ only) writes
 * several streams, each with its expected state, in one transaction (all streams or none): with
 * it this append would send the planned parts in one request and the guarantee would be per call,
 * as on SQLite and PostgreSQL, for servers of that version.
 */
export class EsdbEventStore implements EventStore {
  readonly densePositions = false;
  private readonly streams: EsdbStreams;
  private readonly appended = new Subject<void>();
  readonly wakeUps: Observable<unknown>;
  private readonly live: ReturnType<EventStoreDBClient['subscribeToAll']>;
  private readonly mentions: EventIndexes['mentions'] | null;
  private readonly fences: readonly string[];
  private readonly now: () => Date;

  private constructor(
    private readonly client: EventStoreDBClient,
    options: EsdbEventStoreOptions,
  ) {
    this.streams = new EsdbStreams(options.streamPrefix ?? '', options.streams);
    this.mentions = options.mentions ?? null;
    this.fences = options.fences ?? [];
    this.now = options.now ?? (() => new Date());
    // Live appends of any writer wake the catch-up reader, which then pulls pages from $all.
    const notified = new Subject<void>();
    this.live = client.subscribeToAll({
      fromPosition: END,
      filter: streamNameFilter({ prefixes: this.streams.filterPrefixes() }),
    });
    this.live.on('data', () => notified.next());
    this.live.on('error', () => {}); // the poll keeps subscribers moving; reads report real failures
    this.wakeUps = merge(this.appended, notified, interval(options.pollMs ?? 1000));
  }

  static async open(connectionString: string, options: EsdbEventStoreOptions): Promise<EsdbEventStore> {
    const deadlined = options.deadlineMs ? withDeadlines(connectionString, options.deadlineMs) : connectionString;
    const client = EventStoreDBClient.connectionString`${deadlined}`;
    return new EsdbEventStore(client, options);
  }

  /** On a client made elsewhere (the tests' in-memory $all, test/support/fake-esdb-client.ts). */
  static withClient(client: EventStoreDBClient, options: EsdbEventStoreOptions): EsdbEventStore {
    return new EsdbEventStore(client, options);
  }

  /** The event as the ledger stores it, or null: none (a link to nothing), or not of a ledger stream. */
  private toStored(resolved: AllStreamResolvedEvent | ResolvedEvent): StoredEvent | null {
    const event = resolved.event;
    const stream = event ? this.streams.streamOf(event.streamId) : null;
    if (!event || stream === null) return null;
    const payload = event.data as unknown as LedgerPayload;
    return {
      id: event.id,
      type: event.type,
      stream,
      revision: Number(event.revision),
      position: Number(event.position?.commit ?? resolved.commitPosition ?? 0n),
      occurredAt: payload.occurredAt,
      recordedAt: payload.recordedAt,
      organizationId: payload.organizationId,
      data: payload.data,
      sealed: payload.sealed,
      prevHash: payload.prevHash,
      hash: payload.hash,
      logHash: null, // positions are not dense, appends to different streams not serialized: no global chain
      logVersion: null,
    };
  }

  /**
   * Plans the whole call against its streams as stored, then writes stream by stream, each with
   * the revision it was planned on (see the class comment); a race lost on a stream the call gave
   * no expectedRevision is planned again from the streams not yet written.
   */
  async append(events: readonly EventToAppend[]): Promise<AppendOutcome> {
    const foreign = events.find((event) => !this.streams.isLedgerStream(event.stream));
    if (foreign) throw new Error(`stream ${foreign.stream} is of no ledger kind: its events would never be read back`);
    const appended: AppendOutcome['appended'] = [];
    const duplicates: string[] = [];
    let pending = events;
    for (let attempt = 0; pending.length > 0; attempt++) {
      const streams = [...new Set(pending.map((event) => event.stream))];
      const stored = new Map(await Promise.all(streams.map(async (s) => [s, await this.readStream(s)] as const)));
      const plan = planAppend(pending, this.appendState(stored), newStagedAppends());
      const written = new Set<string>();
      const duplicatesOf = (done: Set<string>) =>
        plan.duplicates.filter((id) => done.has(pending.find((event) => event.id === id)!.stream));
      for (const stream of streams) {
        const head = stored.get(stream)!.at(-1)?.revision ?? -1;
        const part = plan.planned.filter((event) => event.stream === stream);
        try {
          if (part.length > 0) appended.push(...(await this.writePart(stream, head, part)));
        } catch (error) {
          if (!(error instanceof WrongExpectedVersionError)) throw error;
          const explicit = pending.find((event) => event.stream === stream && event.expectedRevision !== undefined);
          if (explicit || attempt >= APPEND_RETRIES)
            throw new ConcurrencyConflict(stream, explicit?.expectedRevision ?? head, actualRevision(error));
          await pauseBeforeRetry(attempt);
          break;
        }
        written.add(stream);
      }
      duplicates.push(...duplicatesOf(written));
      pending = pending.filter((event) => !written.has(event.stream));
    }
    // In the call's order, as the other stores answer (positions follow the order the streams were written in).
    const order = new Map(events.map((event, index) => [event.id, index]));
    appended.sort((a, b) => order.get(a.id)! - order.get(b.id)!);
    return { appended, duplicates };
  }

  /** What planAppend needs to know of the call's streams, from the streams as read. */
  private appendState(stored: ReadonlyMap<string, StoredEvent[]>): AppendState {
    const ids = new Map<string, { stream: string; type: string }>();
    for (const events of stored.values()) for (const event of events) ids.set(event.id, event);
    const fences = this.fences;
    return {
      stored: (id) => ids.get(id),
      head: (stream) => {
        const last = stored.get(stream)?.at(-1);
        return last ? { revision: last.revision, hash: last.hash } : NEW_STREAM;
      },
      fencedBy: (stream) => stored.get(stream)?.find((event) => fences.includes(event.type))?.id,
      fences,
    };
  }

  /**
   * One stream's planned events, written if the stream is still at `head`; what was appended. A
   * WrongExpectedVersionError is left to append, which knows whether to retry or answer a conflict.
   */
  private async writePart(stream: string, head: number, part: PlannedEvent[]): Promise<AppendOutcome['appended']> {
    await this.client
      .appendToStream(
        this.streams.nameOf(stream),
        part.map((event) => this.toEventData(event)),
        { expectedRevision: head === -1 ? NO_STREAM : BigInt(head) },
      )
      .catch((error: unknown) => {
        throw fromEsdb(error);
      });
    this.appended.next();
    const written = (await this.readStream(stream)).slice(head + 1);
    return written.map((event) => ({ id: event.id, stream, revision: event.revision, position: event.position }));
  }

  private toEventData(event: PlannedEvent) {
    const payload: LedgerPayload = {
      occurredAt: event.occurredAt,
      organizationId: event.organizationId,
      data: event.data,
      sealed: event.sealed,
      prevHash: event.prevHash,
      hash: event.hash,
      recordedAt: this.now().toISOString(),
    };
    return jsonEvent({ id: event.id, type: event.type, data: payload as unknown as Record<string, unknown> });
  }

  async readStream(stream: string): Promise<StoredEvent[]> {
    const events: StoredEvent[] = [];
    try {
      for await (const resolved of this.client.readStream(this.streams.nameOf(stream), {
        fromRevision: START,
        direction: FORWARDS,
      })) {
        const event = this.toStored(resolved);
        if (event) events.push(event);
      }
    } catch (error) {
      if (error instanceof StreamNotFoundError) return [];
      throw fromEsdb(error);
    }
    return events;
  }

  /**
   * Ledger events of $all after a commit position, `limit` of them, skipping other streams' events
   * (system streams, other prefixes). Kept on this side: the 6.x client's readAll takes no filter
   * (the live subscription's is on the server; @kurrent/kurrentdb-client's readAll takes one).
   */
  async readAll(
    options: ReadAllOptions = {},
    keep: (event: StoredEvent) => boolean = () => true,
  ): Promise<StoredEvent[]> {
    const after = options.after ?? 0;
    const limit = options.limit ?? 1000;
    const page: StoredEvent[] = [];
    const fromPosition = after === 0 ? START : { commit: BigInt(after), prepare: BigInt(after) };
    const read = this.client.readAll({ fromPosition, direction: FORWARDS });
    try {
      for await (const resolved of read) {
        const event = this.toStored(resolved);
        if (!event || event.position <= after || !keep(event)) continue;
        page.push(event);
        if (page.length === limit) break;
      }
    } catch (error) {
      throw fromEsdb(error);
    } finally {
      await read.cancel().catch(() => {});
    }
    return page;
  }

  /** EventStoreDB sends whole events: the facts are the stored events without what only verification reads. */
  async readFacts(options: ReadAllOptions = {}): Promise<EventFact[]> {
    return (await this.readAll(options)).map(
      ({ revision: _r, recordedAt: _at, prevHash: _p, hash: _h, logHash: _l, logVersion: _v, ...fact }) => fact,
    );
  }

  async readMentions(contactId: string): Promise<StoredEvent[]> {
    if (!this.mentions) throw new Error('this store keeps no mention index (EventIndexes.mentions)');
    const { types, field } = this.mentions;
    const mentioning = (event: StoredEvent) => types.includes(event.type) && event.data[field] === contactId;
    const found: StoredEvent[] = [];
    for await (const page of pagesAfter((after, limit) => this.readAll({ after, limit }, mentioning), 0, 1000)) {
      found.push(...page);
    }
    return found;
  }

  /** EventStoreDB keeps no mention index to answer from: every row is decided from the log instead. */
  async headsOf(items: ReadonlyArray<{ stream: string; mentioned: string }>): Promise<Array<number | null>> {
    return items.map(() => null);
  }

  /** EventStoreDB keeps no index of the ledger's ids across streams: the log is read until the event is found. */
  async readEvent(id: string): Promise<StoredEvent | null> {
    return (await this.readAll({ limit: 1 }, (event) => event.id === id))[0] ?? null;
  }

  readByTypes(types: readonly string[], options: ReadAllOptions = {}): Promise<StoredEvent[]> {
    const wanted = new Set(types);
    return this.readAll(options, (event) => wanted.has(event.type));
  }

  subscribe(options: SubscribeOptions = {}): Observable<StoredEvent> {
    return subscribeTo(this, options);
  }

  async headPosition(): Promise<number> {
    const read = this.client.readAll({ fromPosition: END, direction: BACKWARDS });
    try {
      for await (const resolved of read) {
        const event = this.toStored(resolved);
        if (event) return event.position;
      }
    } catch (error) {
      throw fromEsdb(error);
    } finally {
      await read.cancel().catch(() => {});
    }
    return 0;
  }

  async close(): Promise<void> {
    this.appended.complete();
    await this.live.unsubscribe().catch(() => {});
    await this.client.dispose();
  }
}
