import { ConcurrencyConflict, Forgotten, IdempotencyConflict } from '../domain/errors.js';
import { GENESIS_HASH, LOG_VERSION, chainHash, logLink, type LogTail, type LogVersion } from '../crypto/hash-chain.js';
import type { AppendOutcome, EventToAppend } from './event-store.js';
import { settle, type Settled } from './group-commit.js';

export interface StreamHead {
  revision: number;
  hash: string;
}
export const NEW_STREAM: StreamHead = { revision: -1, hash: GENESIS_HASH };

/** An event with its place in its stream and its chain link, ready to be written. */
export interface PlannedEvent extends Omit<EventToAppend, 'expectedRevision'> {
  revision: number;
  prevHash: string;
  hash: string;
}

/** Heads, ids and fences planned earlier in one commit group, seen by the later calls of the group. */
export interface StagedAppends {
  heads: Map<string, StreamHead>;
  ids: Map<string, { stream: string; type: string }>;
  fences: Map<string, string>;
}
export const newStagedAppends = (): StagedAppends => ({ heads: new Map(), ids: new Map(), fences: new Map() });

/** What the store already holds, as the plan needs it (read under the store's write lock). */
export interface AppendState {
  /** Stream and type of a stored event id, if any. */
  stored(id: string): { stream: string; type: string } | undefined;
  /** Head of a stream (NEW_STREAM when empty). */
  head(stream: string): StreamHead;
  /** The id of a stored event of a `fences` type in the stream, if any: it takes no sealed part after it. */
  fencedBy(stream: string): string | undefined;
  /** The types that fence a stream (EventIndexes.fences). */
  fences: readonly string[];
}

/**
 * The event as the next link of its stream. Its fields are written out rather than spread: object
 * spread and rest cost more than the hash on this path.
 */
function linked(event: EventToAppend, head: StreamHead): PlannedEvent {
  const chained = {
    id: event.id,
    type: event.type,
    stream: event.stream,
    occurredAt: event.occurredAt,
    organizationId: event.organizationId,
    data: event.data,
    sealed: event.sealed,
    revision: head.revision + 1,
    prevHash: head.hash,
  };
  return { ...chained, hash: chainHash(chained) };
}

/**
 * The append rules every backend shares, as a pure function: a known id is a duplicate if it
 * names the same stream and type (else an IdempotencyConflict), expectedRevision must match the
 * head, a fenced stream takes no sealed part (Forgotten, naming the fencing event: the log
 * decides, whatever a key cache still holds), and each new event gets the next revision and its
 * hash link. `staged` carries the heads, ids and fences planned earlier in the same commit group;
 * it is updated only when the call succeeds.
 */
export function planAppend(
  batch: readonly EventToAppend[],
  state: AppendState,
  staged: StagedAppends,
): { planned: PlannedEvent[]; duplicates: string[] } {
  const heads = new Map<string, StreamHead>();
  const ids = new Map<string, { stream: string; type: string }>();
  const fences = new Map<string, string>();
  const planned: PlannedEvent[] = [];
  const duplicates: string[] = [];
  batch.forEach((event, index) => {
    const existing = ids.get(event.id) ?? staged.ids.get(event.id) ?? state.stored(event.id);
    if (existing) {
      if (existing.stream !== event.stream || existing.type !== event.type)
        throw new IdempotencyConflict(event.id, index);
      duplicates.push(event.id);
      return;
    }
    const head = heads.get(event.stream) ?? staged.heads.get(event.stream) ?? state.head(event.stream);
    if (event.expectedRevision !== undefined && event.expectedRevision !== head.revision) {
      throw new ConcurrencyConflict(event.stream, event.expectedRevision, head.revision);
    }
    if (event.sealed !== null) {
      const fence = fences.get(event.stream) ?? staged.fences.get(event.stream) ?? state.fencedBy(event.stream);
      if (fence) throw new Forgotten(event.stream, fence, index);
    }
    const next = linked(event, head);
    heads.set(event.stream, { revision: next.revision, hash: next.hash });
    ids.set(event.id, { stream: event.stream, type: event.type });
    if (state.fences.includes(event.type)) fences.set(event.stream, event.id);
    planned.push(next);
  });
  for (const [stream, head] of heads) staged.heads.set(stream, head);
  for (const [id, at] of ids) staged.ids.set(id, at);
  for (const [stream, fence] of fences) staged.fences.set(stream, fence);
  return { planned, duplicates };
}

/** A planned event with its place in the log: its position, the time it is recorded, its link in the global chain. */
export interface PlacedEvent extends PlannedEvent {
  position: number;
  recordedAt: string;
  logHash: string;
  logVersion: LogVersion;
}

/**
 * Gives a group's planned events the positions after `tail` and the time they are recorded, each
 * linked to the one before it (logLink, which covers both).
 */
export function placeInLog(
  planned: readonly PlannedEvent[],
  tail: LogTail,
  recordedAt: string,
): { placed: PlacedEvent[]; tail: LogTail } {
  let { position, logHash } = tail;
  const placed = planned.map((event) => {
    position++;
    logHash = logLink(logHash, { position, hash: event.hash, recordedAt });
    return { ...event, position, recordedAt, logHash, logVersion: LOG_VERSION };
  });
  return { placed, tail: { position, logHash } };
}

/** A commit group planned: each call placed in the log or refused, and what the group writes. */
export interface PlannedGroup {
  /** Per call, in order: its events placed in the log, or why it is refused (alone). */
  calls: Settled<{ placed: PlacedEvent[]; duplicates: string[] }>[];
  /** Every event the group writes, in position order. */
  placed: PlacedEvent[];
  /** The stream heads the group leaves. */
  heads: Map<string, StreamHead>;
  /** The end of the global chain the group leaves. */
  tail: LogTail;
}

/**
 * What the SQLite and PostgreSQL stores do under their write lock: each call of a group planned
 * on its own (planAppend: a call that breaks a rule is refused alone), the events of the others
 * placed in the log after `tail`, in call order, recorded at `recordedAt` (one time per group).
 */
export function planGroup(
  calls: ReadonlyArray<readonly EventToAppend[]>,
  state: AppendState,
  tail: LogTail,
  recordedAt: string,
): PlannedGroup {
  const staged = newStagedAppends();
  const placed: PlacedEvent[] = [];
  const planned = calls.map((call): PlannedGroup['calls'][number] => {
    const plan = settle(() => planAppend(call, state, staged));
    if (!plan.ok) return plan;
    const inLog = placeInLog(plan.value.planned, tail, recordedAt);
    tail = inLog.tail;
    placed.push(...inLog.placed);
    return { ok: true, value: { placed: inLog.placed, duplicates: plan.value.duplicates } };
  });
  return { calls: planned, placed, heads: staged.heads, tail };
}

/** A planned call's answer, once its group is written. */
export const outcomeOf = (call: PlannedGroup['calls'][number]): Settled<AppendOutcome> =>
  call.ok
    ? {
        ok: true,
        value: {
          appended: call.value.placed.map((e) => ({
            id: e.id,
            stream: e.stream,
            revision: e.revision,
            position: e.position,
          })),
          duplicates: call.value.duplicates,
        },
      }
    : call;
