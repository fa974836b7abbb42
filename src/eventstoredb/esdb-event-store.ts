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
import type { SealedPart } from '../crypto/seal.js';
import { NEW_STREAM, newStagedAppends, planAppend, type PlannedEvent } from '../store/append-plan.js';
import { subscribeTo } from '../store/catch-up.js';
import { pagesAfter } from '../store/pages.js';
import type {
  AppendOutcome,
  EventStore,
  EventToAppend,
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
   * of $all keep the streams that start with it and `contact-`.
   */
  streamPrefix?: string;
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

/** Retries of an append without expectedRevision when another writer moved a stream head meanwhile. */
const APPEND_RETRIES = 5;

/**
 * The event store on EventStoreDB / KurrentDB (@eventstore/db-client 6.x). A ledger stream is an
 * EventStoreDB stream; the global position is the event's commit position in $all (increasing,
 * not dense: the lag in /health is then in log bytes); readAll, readByTypes and the live
 * subscription read $all filtered to the ledger's streams.
 *
 * Differences the port allows and DESIGN.md states: an append is atomic per stream, not across
 * the streams of one call (EventStoreDB 6.x has no multi-stream transaction). Each stream's part
 * is written with the expected revision its chain was computed against, so a chain can never
 * fork; a call that fails part-way can be retried as is, since ids already stored are reported as
 * duplicates.
 */
export class EsdbEventStore implements EventStore {
  readonly densePositions = false;
  private readonly prefix: string;
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
    this.prefix = options.streamPrefix ?? '';
    this.mentions = options.mentions ?? null;
    this.fences = options.fences ?? [];
    this.now = options.now ?? (() => new Date());
    // Live appends of any writer wake the catch-up reader, which then pulls pages from $all.
    const notified = new Subject<void>();
    this.live = client.subscribeToAll({
      fromPosition: END,
      filter: streamNameFilter({ prefixes: [this.ledgerPrefix] }),
    });
    this.live.on('data', () => notified.next());
    this.live.on('error', () => {}); // the poll keeps subscribers moving; reads report real failures
    this.wakeUps = merge(this.appended, notified, interval(options.pollMs ?? 1000));
  }

  static async open(connectionString: string, options: EsdbEventStoreOptions = {}): Promise<EsdbEventStore> {
    const deadlined = options.deadlineMs ? withDeadlines(connectionString, options.deadlineMs) : connectionString;
    const client = EventStoreDBClient.connectionString`${deadlined}`;
    return new EsdbEventStore(client, options);
  }

  private get ledgerPrefix(): string {
    return `${this.prefix}contact-`;
  }

  private isLedgerEvent(resolved: AllStreamResolvedEvent | ResolvedEvent): boolean {
    return resolved.event !== undefined && resolved.event.streamId.startsWith(this.ledgerPrefix);
  }

  private toStored(resolved: AllStreamResolvedEvent | ResolvedEvent): StoredEvent {
    const event = resolved.event!;
    const payload = event.data as unknown as LedgerPayload;
    return {
      id: event.id,
      type: event.type,
      stream: event.streamId.slice(this.prefix.length),
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

  async append(events: readonly EventToAppend[]): Promise<AppendOutcome> {
    const outcome: AppendOutcome = { appended: [], duplicates: [] };
    const byStream = new Map<string, EventToAppend[]>();
    for (const event of events) byStream.set(event.stream, [...(byStream.get(event.stream) ?? []), event]);
    for (const [stream, part] of byStream) {
      const written = await this.appendToOneStream(stream, part);
      outcome.appended.push(...written.appended);
      outcome.duplicates.push(...written.duplicates);
    }
    return outcome;
  }

  /** Plans against the stream as stored, then writes with that revision expected; retries a lost race. */
  private async appendToOneStream(stream: string, events: EventToAppend[], attempt = 0): Promise<AppendOutcome> {
    const stored = await this.readStream(stream);
    const ids = new Map(stored.map((event) => [event.id, event]));
    const last = stored.at(-1);
    const head = last ? { revision: last.revision, hash: last.hash } : NEW_STREAM;
    const staged = newStagedAppends();
    const fences = this.fences;
    const fence = stored.find((event) => fences.includes(event.type))?.id;
    const state = { stored: (id: string) => ids.get(id), head: () => head, fencedBy: () => fence, fences };
    const { planned, duplicates } = planAppend(events, state, staged);
    if (planned.length === 0) return { appended: [], duplicates };
    try {
      await this.client.appendToStream(
        this.prefix + stream,
        planned.map((event) => this.toEventData(event)),
        {
          expectedRevision: head.revision === -1 ? NO_STREAM : BigInt(head.revision),
        },
      );
    } catch (error) {
      if (!(error instanceof WrongExpectedVersionError)) throw error;
      const explicit = events.find((event) => event.expectedRevision !== undefined);
      if (explicit || attempt >= APPEND_RETRIES)
        throw new ConcurrencyConflict(stream, explicit?.expectedRevision ?? head.revision, actualRevision(error));
      return this.appendToOneStream(stream, events, attempt + 1);
    }
    this.appended.next();
    const written = (await this.readStream(stream)).slice(head.revision + 1);
    return {
      appended: written.map((event) => ({ id: event.id, stream, revision: event.revision, position: event.position })),
      duplicates,
    };
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
      for await (const resolved of this.client.readStream(this.prefix + stream, {
        fromRevision: START,
        direction: FORWARDS,
      })) {
        if (resolved.event) events.push(this.toStored(resolved));
      }
    } catch (error) {
      if (error instanceof StreamNotFoundError) return [];
      throw error;
    }
    return events;
  }

  /** Ledger events of $all after a commit position, `limit` of them, skipping other streams' events. */
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
        if (!this.isLedgerEvent(resolved)) continue;
        const event = this.toStored(resolved);
        if (event.position <= after || !keep(event)) continue;
        page.push(event);
        if (page.length === limit) break;
      }
    } finally {
      await read.cancel().catch(() => {});
    }
    return page;
  }

  /** EventStoreDB sends whole events: the facts are the stored events. */
  readFacts(options: ReadAllOptions = {}): Promise<StoredEvent[]> {
    return this.readAll(options);
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
      for await (const resolved of read) if (this.isLedgerEvent(resolved)) return this.toStored(resolved).position;
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
