import { hash } from 'node:crypto';
import canonicalizeModule from 'canonicalize';
import type { SealedPart } from './seal.js';

// canonicalize is CommonJS whose typings declare an ES default export; the import is the function.
const canonicalize = canonicalizeModule as unknown as (input: unknown) => string | undefined;

/** RFC 8785 canonical JSON: the same value, the same bytes, whatever the order its keys came in. */
export const canonicalJson = (value: unknown): string => canonicalize(value)!;

/** prevHash of a stream's first event. */
export const GENESIS_HASH = '0'.repeat(64);

/**
 * Every stored field but position and recordedAt: both are assigned by the store, not the fact, so
 * they are chained in the log (logLink), not in the stream.
 */
export interface ChainedFields {
  id: string;
  type: string;
  stream: string;
  revision: number;
  occurredAt: string;
  organizationId: string;
  data: Record<string, unknown>;
  sealed: SealedPart | null;
  prevHash: string;
}

/**
 * RFC 8785 canonical JSON of the chained fields. The envelope has a fixed shape, so its members
 * are written in their canonical (sorted) order directly and only the free-form `data` goes
 * through the canonicalize library: the same bytes as canonicalizing the whole record (a test
 * checks it against the library), at a third of the cost on the append path.
 */
export function canonicalRecord(fields: ChainedFields): string {
  const sealed =
    fields.sealed === null
      ? 'null'
      : `{"ciphertext":${JSON.stringify(fields.sealed.ciphertext)},"fields":${canonicalize(fields.sealed.fields)},` +
        `"iv":${JSON.stringify(fields.sealed.iv)},"keyId":${JSON.stringify(fields.sealed.keyId)},` +
        `"tag":${JSON.stringify(fields.sealed.tag)}}`;
  return (
    `{"data":${canonicalize(fields.data)},"id":${JSON.stringify(fields.id)},` +
    `"occurredAt":${JSON.stringify(fields.occurredAt)},` +
    `"organizationId":${JSON.stringify(fields.organizationId)},"prevHash":${JSON.stringify(fields.prevHash)},` +
    `"revision":${canonicalize(fields.revision)},"sealed":${sealed},"stream":${JSON.stringify(fields.stream)},` +
    `"type":${JSON.stringify(fields.type)}}`
  );
}

/**
 * hash = sha256(prevHash + RFC 8785 canonical JSON of the chained fields). The chain covers the
 * ciphertext, not the plaintext, so shredding a key never breaks it.
 */
export function chainHash(fields: ChainedFields): string {
  return hash('sha256', fields.prevHash + canonicalRecord(fields), 'hex');
}

export interface BrokenLink {
  stream: string;
  revision: number;
  reason: string;
}

/**
 * Streams the verification of a whole log read in position order: each stream must start at
 * revision 0 from the genesis hash, have no gap, link to its predecessor and hash to itself.
 * Memory is one entry per stream (its head), not per event.
 */
export class ChainVerifier {
  private readonly heads = new Map<string, { revision: number; hash: string }>();
  private readonly broken = new Map<string, BrokenLink>();
  events = 0;

  check(event: ChainedFields & { hash: string }): void {
    this.events++;
    if (this.broken.has(event.stream)) return;
    const head = this.heads.get(event.stream) ?? { revision: -1, hash: GENESIS_HASH };
    const reason =
      event.revision !== head.revision + 1
        ? `revision ${head.revision + 1} expected`
        : event.prevHash !== head.hash
          ? 'prevHash does not match the previous event'
          : chainHash(event) !== event.hash
            ? 'hash does not match the record (altered)'
            : null;
    if (reason) this.broken.set(event.stream, { stream: event.stream, revision: event.revision, reason });
    else this.heads.set(event.stream, { revision: event.revision, hash: event.hash });
  }

  report(): { ok: boolean; streams: number; events: number; broken: BrokenLink[] } {
    const broken = [...this.broken.values()];
    const streams = new Set([...this.heads.keys(), ...this.broken.keys()]).size;
    return { ok: broken.length === 0, streams, events: this.events, broken };
  }
}

/**
 * The form of a record's logHash. 1: the link covers position and hash; records written before
 * version 2 keep it (and verify as written). 2: it covers recordedAt too.
 */
export type LogVersion = 1 | 2;
/** The form the stores write. */
export const LOG_VERSION: LogVersion = 2;

/** What a record's link in the global chain covers: the fields the store assigns, and its chain hash. */
export interface LoggedFields {
  position: number;
  hash: string;
  recordedAt: string;
}

/**
 * The global chain: each record's logHash = sha256(previous record's logHash + position + hash
 * (+ recordedAt from version 2 on)), written by the store under its write lock. It commits every
 * record to its place in the log, so a record removed, inserted or moved anywhere breaks the chain
 * at that very position (the stream chains cannot see records of different streams trading places).
 * recordedAt is chained here rather than in the stream's hash: like position, the store assigns it
 * when it writes (DESIGN.md: the stream hash covers the fact, "every other field but
 * position/recordedAt"), and the stream hash is computed before that, by every backend alike. Each
 * record keeps the version of its link (logVersion), so a log written before version 2 verifies as
 * it was written while every record after it covers recordedAt; a version changed by hand changes
 * the link computed, which then no longer matches. A store that has no dense positions
 * (EventStoreDB) keeps no chain; records written before the chain existed have none, and the chain
 * starts from GENESIS_HASH at the first record that has one.
 */
export function logLink(prevLogHash: string, record: LoggedFields, version: LogVersion = LOG_VERSION): string {
  return version === 1
    ? hash('sha256', `${prevLogHash}${record.position}${record.hash}`, 'hex')
    : hash('sha256', `v2\n${prevLogHash}\n${record.position}\n${record.hash}\n${record.recordedAt}`, 'hex');
}

/** The end of the global chain: the last position and its logHash (GENESIS_HASH when it has none). */
export interface LogTail {
  position: number;
  logHash: string;
}

/** A position where the global chain does not hold, the record there, and why. */
export interface LogBreak {
  position: number;
  stream: string;
  revision: number;
  reason: string;
}

/** A stored record as the global chain's verification reads it. */
export interface LoggedRecord extends LoggedFields {
  stream: string;
  revision: number;
  logHash: string | null;
  /** null where logHash is null; a record without one is of version 1. */
  logVersion: LogVersion | null;
}

const MAX_LOG_BREAKS = 100;

/**
 * Checks the global chain over records read in position order. After a break it carries on from
 * the stored logHash, so a record moved from one place to another shows as two breaks, at the
 * two positions, rather than as everything after the first.
 */
export class LogChainVerifier {
  private previous: string | null = null;
  private readonly breaks: LogBreak[] = [];
  private chained = 0;
  private from: number | null = null;

  check(record: LoggedRecord): void {
    if (record.logHash === null) {
      if (this.previous !== null) this.broke(record, 'no log hash after chained records (inserted)');
      return;
    }
    this.chained++;
    this.from ??= record.position;
    const version = record.logVersion ?? 1;
    if (version !== 1 && version !== 2) this.broke(record, `unknown log version ${String(version)}`);
    else if (logLink(this.previous ?? GENESIS_HASH, record, version) !== record.logHash) {
      this.broke(
        record,
        version === 1
          ? 'the record does not follow the one before it in the log (moved, inserted or removed)'
          : 'the record does not follow the one before it in the log (moved, inserted or removed), ' +
              'or its recordedAt or log version changed',
      );
    }
    this.previous = record.logHash;
  }

  report(): { chained: number; from: number | null; breaks: LogBreak[] } {
    return { chained: this.chained, from: this.from, breaks: this.breaks };
  }

  private broke({ position, stream, revision }: LoggedRecord, reason: string): void {
    if (this.breaks.length < MAX_LOG_BREAKS) this.breaks.push({ position, stream, revision, reason });
  }
}
