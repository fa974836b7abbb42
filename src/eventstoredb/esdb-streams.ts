import { isStreamOf, type StreamKinds } from '../domain/streams.js';

/**
 * Which streams of an EventStoreDB cluster are the ledger's, and their names there. EventStoreDB
 * has one log, $all, shared with its system streams (`$…`) and with any other writer: the ledger
 * reads, replays and verifies every stream of its kinds (LEDGER_STREAMS: contacts, purposes, API
 * keys, schedules, batch runs, audit checkpoints) under its prefix, and nothing else. Kept apart
 * from the client so that it is tested without a server (test/store/esdb-streams.unit.spec.ts).
 */
export class EsdbStreams {
  constructor(
    /** LEDGER_ESDB_STREAM_PREFIX: prepended to every stream name, so several ledgers share a cluster. */
    readonly prefix: string,
    private readonly kinds: StreamKinds,
  ) {
    if (prefix.startsWith('$'))
      throw new Error(`LEDGER_ESDB_STREAM_PREFIX ${prefix} starts with $, which EventStoreDB keeps for system streams`);
  }

  /** Whether the ledger writes such a stream (one it would read back). */
  isLedgerStream(stream: string): boolean {
    return isStreamOf(this.kinds, stream);
  }

  /** The EventStoreDB name of a ledger stream. */
  nameOf(stream: string): string {
    return this.prefix + stream;
  }

  /**
   * The ledger stream an EventStoreDB stream is, or null: a system stream (`$…`, metadata
   * `$$…` included), another prefix's, or a kind the ledger does not write.
   */
  streamOf(streamId: string): string | null {
    if (streamId.startsWith('$') || !streamId.startsWith(this.prefix)) return null;
    const stream = streamId.slice(this.prefix.length);
    return this.isLedgerStream(stream) ? stream : null;
  }

  /**
   * The server-side filter of the live subscription to $all (a stream-name prefix filter): each
   * kind under the prefix. A prefix filter also lets `purposes-old` through for `purposes`, so
   * every event read is still checked by streamOf.
   */
  filterPrefixes(): string[] {
    return [...this.kinds.names, ...this.kinds.prefixes].map((kind) => this.prefix + kind);
  }
}
