import { EventEmitter } from 'node:events';
import {
  BACKWARDS,
  END,
  NO_STREAM,
  START,
  StreamNotFoundError,
  WrongExpectedVersionError,
  type EventStoreDBClient,
} from '@eventstore/db-client';

interface Recorded {
  streamId: string;
  id: string;
  type: string;
  revision: bigint;
  data: unknown;
  commit: bigint;
}

/** A stream name filter as streamNameFilter builds it. */
interface PrefixFilter {
  prefixes?: string[];
}

/**
 * An in-memory EventStoreDB of one $all, with the few calls EsdbEventStore makes, as the server
 * answers them (per-stream revisions and expected revisions, sparse commit positions, reads of
 * $all forwards and backwards, a filtered live subscription). Not a server: it cannot say what a
 * real one does (run the contract suite with ESDB_CONNECTION_STRING for that); it says what the
 * adapter does with what a server answers. Like a real cluster, its $all carries more than the
 * ledger: system streams and events (`$…`), other applications', another ledger's prefix, all
 * interleaved with the ledger's appends, so that every read the adapter makes must filter.
 */
export class FakeEsdbClient {
  private readonly log: Recorded[] = [];
  private readonly subscriptions = new Set<{ emitter: EventEmitter; prefixes: string[] | null }>();
  private commit = 0n;
  /** While set, every call fails with it, as the client fails a call to a server out of reach. */
  outage: Error | null = null;

  constructor(private readonly noise: readonly string[]) {
    for (const stream of noise) this.write(stream, [{ id: `noise-${this.log.length}`, type: '$noise', data: {} }]);
  }

  /** The client as EsdbEventStore takes it. */
  asClient(): EventStoreDBClient {
    return this as unknown as EventStoreDBClient;
  }

  private revisionOf(streamId: string): bigint {
    for (let i = this.log.length - 1; i >= 0; i--) if (this.log[i]!.streamId === streamId) return this.log[i]!.revision;
    return -1n;
  }

  private write(streamId: string, events: ReadonlyArray<{ id: string; type: string; data: unknown }>): void {
    let revision = this.revisionOf(streamId);
    for (const event of events) {
      this.commit += 97n + BigInt(JSON.stringify(event.data).length); // sparse, as log bytes are
      this.log.push({
        streamId,
        id: event.id,
        type: event.type,
        revision: ++revision,
        data: event.data,
        commit: this.commit,
      });
    }
    for (const { emitter, prefixes } of this.subscriptions) {
      if (!prefixes || prefixes.some((prefix) => streamId.startsWith(prefix))) setImmediate(() => emitter.emit('data'));
    }
  }

  async appendToStream(
    streamId: string,
    events: ReadonlyArray<{ id: string; type: string; data: unknown }>,
    { expectedRevision }: { expectedRevision: bigint | typeof NO_STREAM },
  ): Promise<void> {
    await Promise.resolve(); // a round trip: other calls run meanwhile
    if (this.outage) throw this.outage;
    const current = this.revisionOf(streamId);
    const expected = expectedRevision === NO_STREAM ? -1n : expectedRevision;
    if (expected !== current) {
      throw new WrongExpectedVersionError(undefined, {
        streamName: streamId,
        expected: expectedRevision,
        current: current === -1n ? NO_STREAM : current,
      });
    }
    this.write(streamId, events);
    // Other writers keep writing to $all: a system event (the server's own) after each append.
    this.write(`$stats-${this.noise.length}`, [{ id: `system-${this.log.length}`, type: '$statsCollected', data: {} }]);
  }

  private resolved(event: Recorded) {
    return {
      event: {
        streamId: event.streamId,
        id: event.id,
        type: event.type,
        revision: event.revision,
        data: event.data,
        position: { commit: event.commit, prepare: event.commit },
      },
      commitPosition: event.commit,
    };
  }

  readStream(streamId: string) {
    const events = this.log.filter((event) => event.streamId === streamId);
    const resolved = this.resolved.bind(this);
    const outage = this.outage;
    return (async function* () {
      await Promise.resolve();
      if (outage) throw outage;
      if (events.length === 0) throw new StreamNotFoundError(undefined, streamId);
      for (const event of events) yield resolved(event);
    })();
  }

  readAll({
    fromPosition,
    direction,
  }: {
    fromPosition: typeof START | typeof END | { commit: bigint };
    direction: string;
  }) {
    const log = this.log;
    const resolved = this.resolved.bind(this);
    let cancelled = false;
    const outage = this.outage;
    const read = (async function* () {
      await Promise.resolve();
      if (outage) throw outage;
      if (direction === BACKWARDS) {
        for (let i = log.length - 1; i >= 0 && !cancelled; i--) yield resolved(log[i]!);
        return;
      }
      const from = typeof fromPosition === 'object' ? fromPosition.commit : 0n;
      // Reads the log as it grows, as a server's read of $all does until it reaches the end.
      for (let i = 0; i < log.length && !cancelled; i++) if (log[i]!.commit >= from) yield resolved(log[i]!);
    })();
    return Object.assign(read, {
      cancel: async () => {
        cancelled = true;
      },
    });
  }

  subscribeToAll({ filter }: { fromPosition: typeof END; filter?: PrefixFilter }) {
    const subscription = { emitter: new EventEmitter(), prefixes: filter?.prefixes ?? null };
    this.subscriptions.add(subscription);
    return Object.assign(subscription.emitter, {
      unsubscribe: async () => void this.subscriptions.delete(subscription),
    });
  }

  async dispose(): Promise<void> {}
}
