import { envelopesOf, validateEnvelopes } from '../domain/envelope.js';
import type { AppendOutcome } from '../store/event-store.js';
import { appendSealed } from './append-sealed.js';
import type { LedgerContext } from './ledger-context.js';

export interface PublishResult extends AppendOutcome {
  warnings: Array<{ index: number; message: string }>;
}

/**
 * Records what upstream systems say happened: the whole body is validated before anything is
 * appended, then sealed and appended atomically. Facts need no stream state to be accepted (the
 * erasure fence is the key store's), so this is no read–decide–append command.
 */
export async function publish(
  context: LedgerContext,
  body: unknown,
  options: { allowLedgerTypes?: boolean } = {},
): Promise<PublishResult> {
  const events = validateEnvelopes(envelopesOf(body), { now: context.now(), newId: context.newId, ...options });
  const outcome = await appendSealed(context, events);
  const indexOf = new Map(events.map((event, index) => [event.id, index]));
  const warnings = outcome.appended
    .filter((appended) => appended.revision === 0)
    .map((appended) => ({ index: indexOf.get(appended.id)!, stream: appended.stream }))
    .filter(({ index }) => events[index]?.type !== 'ContactRegistered')
    .map(({ index, stream }) => ({ index, message: `first event of ${stream} is not ContactRegistered` }));
  return { ...outcome, warnings };
}
