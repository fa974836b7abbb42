import { ConcurrencyConflict } from '../domain/errors.js';
import type { ValidEvent } from '../domain/envelope.js';
import type { AppendOutcome, StoredEvent } from '../store/event-store.js';
import { appendSealed, type ConfigEvent } from './append-sealed.js';
import type { LedgerContext } from './ledger-context.js';

/**
 * An event a decision asks for: a contact's (sealed by the catalog's rules) or a configuration
 * stream's. The helper gives it its id, its time and its expected revision.
 */
export type NewEvent =
  | Omit<ValidEvent, 'id' | 'occurredAt' | 'expectedRevision'>
  | Omit<ConfigEvent, 'id' | 'occurredAt' | 'expectedRevision'>;

/** What a pure decision returns: the events to append (none: nothing to do) and the caller's answer. */
export interface Decision<R> {
  events: NewEvent[];
  result: R;
}

/** A command on one stream: how its state is folded from the stream, and the pure rule that decides. */
export interface Command<S, R> {
  /** The state the decision is taken on (it may open seals: the only I/O besides the read). */
  state(events: readonly StoredEvent[]): Promise<S>;
  decide(state: S, now: Date): Decision<R>;
}

/**
 * The one read–decide–append path of the use cases (Emmett's `handleCommand`): read the stream,
 * fold it, decide with a pure function, append at the revision read, so that nothing appended in
 * between goes unseen (a ConcurrencyConflict instead).
 */
export async function handleCommand<S, R>(
  context: LedgerContext,
  stream: string,
  command: Command<S, R>,
): Promise<{ result: R; appended: Array<ValidEvent | ConfigEvent>; outcome: AppendOutcome }> {
  const read = await context.store.readStream(stream);
  const now = context.now();
  const { events, result } = command.decide(await command.state(read), now);
  if (events.length === 0) return { result, appended: [], outcome: { appended: [], duplicates: [] } };
  const revision = read.length - 1;
  const stamp = { occurredAt: now.toISOString() };
  const stamped = events.map(
    (event, index) =>
      ({
        ...event,
        ...stamp,
        id: context.newId(),
        ...(index === 0 ? { expectedRevision: revision } : {}),
      }) as ValidEvent | ConfigEvent,
  );
  return { result, appended: stamped, outcome: await appendSealed(context, stamped) };
}

/** What `handleCommand` would decide on the stream now, without appending anything (a simulation). */
export async function decideOnStream<S, R>(context: LedgerContext, stream: string, command: Command<S, R>): Promise<R> {
  const read = await context.store.readStream(stream);
  return command.decide(await command.state(read), context.now()).result;
}

/** How often a read–decide–append is tried again on a conflict before the conflict is reported. */
const CONFLICT_ATTEMPTS = 20;

/**
 * Runs a read–decide–append again, from a fresh read, when another writer appended to the stream
 * in between (a ConcurrencyConflict). A busy stream is not given up after a few tries: each try
 * waits a little longer (1 ms doubling to 256 ms, with jitter, so that writers that collided do
 * not collide again), about 3 s in all before the conflict is reported.
 */
export async function retryOnConflict<T>(work: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (!(error instanceof ConcurrencyConflict) || attempt >= CONFLICT_ATTEMPTS) throw error;
      const backoff = Math.min(256, 2 ** (attempt - 1));
      await new Promise((resolve) => setTimeout(resolve, backoff / 2 + Math.random() * backoff));
    }
  }
}
