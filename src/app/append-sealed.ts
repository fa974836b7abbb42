import type { ValidEvent } from '../domain/envelope.js';
import { Forgotten } from '../domain/errors.js';
import type { AppendOutcome } from '../store/event-store.js';
import type { LedgerContext } from './ledger-context.js';
import { scopesNeeded, sealEvent } from './sealing.js';

/**
 * Seals each event's personal fields with its scope's key and appends them in one call (all or
 * none). The erasure fence: a forgotten scope gets no key, and the refusal names the event.
 */
export async function appendSealed(
  { store, keys }: Pick<LedgerContext, 'store' | 'keys'>,
  events: readonly ValidEvent[],
): Promise<AppendOutcome> {
  let dataKeys;
  try {
    dataKeys = await keys.keysFor(events.flatMap(scopesNeeded));
  } catch (error) {
    if (!(error instanceof Forgotten)) throw error;
    const scope = String(error.details['scope']);
    const index = events.findIndex((event) => scopesNeeded(event).includes(scope));
    throw new Forgotten(scope, (error.details['forgottenBy'] as string | null) ?? null, index);
  }
  return store.append(events.map((event) => sealEvent(event, dataKeys)));
}
