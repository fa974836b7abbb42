import type { ValidEvent } from '../domain/envelope.js';
import { Forgotten } from '../domain/errors.js';
import { LEDGER_STREAMS, isStreamOf } from '../domain/streams.js';
import type { AppendOutcome, EventToAppend } from '../store/event-store.js';
import type { LedgerContext } from './ledger-context.js';
import { scopesNeeded, sealEvent } from './sealing.js';

/** An event of a configuration stream (api keys, purposes, batch runs): it holds nothing personal. */
export type ConfigEvent = Omit<EventToAppend, 'sealed'>;

const isContactEvent = (event: ValidEvent | ConfigEvent): event is ValidEvent => !('stream' in event);

/**
 * Seals each contact event's personal fields with its scope's key and appends every event in one
 * call (all or none). The erasure fence: a forgotten scope gets no key, and the refusal names the
 * event. A configuration event goes only to a stream of LEDGER_STREAMS: a new kind of stream must be
 * declared there, or a store that reads only the ledger's streams (EventStoreDB) would never read it back.
 */
export async function appendSealed(
  { store, keys }: Pick<LedgerContext, 'store' | 'keys'>,
  events: ReadonlyArray<ValidEvent | ConfigEvent>,
): Promise<AppendOutcome> {
  const unknown = events.find((event) => !isContactEvent(event) && !isStreamOf(LEDGER_STREAMS, event.stream));
  if (unknown && !isContactEvent(unknown))
    throw new Error(
      `stream ${unknown.stream} is of no kind in LEDGER_STREAMS (src/domain/streams.ts): declare it there`,
    );
  const needed = (event: ValidEvent | ConfigEvent) => (isContactEvent(event) ? scopesNeeded(event) : []);
  let dataKeys;
  try {
    dataKeys = await keys.keysFor(events.flatMap(needed));
  } catch (error) {
    if (!(error instanceof Forgotten)) throw error;
    const scope = String(error.details['scope']);
    const index = events.findIndex((event) => needed(event).includes(scope));
    throw new Forgotten(scope, (error.details['forgottenBy'] as string | null) ?? null, index);
  }
  return store.append(
    events.map((event) => (isContactEvent(event) ? sealEvent(event, dataKeys) : { ...event, sealed: null })),
  );
}
