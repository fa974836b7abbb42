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
