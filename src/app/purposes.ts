import {
  decideConfigurePurpose,
  isPurposeEvent,
  PurposeTimeline,
  PURPOSES_STREAM,
  PURPOSE_CONFIGURED,
  purposeView,
  type PurposeEvent,
  type PurposeSettings,
} from '../domain/purposes.js';
import type { EventStore, StoredEvent } from '../store/event-store.js';
import { handleCommand } from './handle-command.js';
import type { LedgerContext } from './ledger-context.js';

/** The purposes stream's events as the folds read them (only the ledger writes that stream). */
export const purposeEventsOf = (stored: readonly StoredEvent[]): PurposeEvent[] =>
  stored
    .map(({ type, position, occurredAt, data }) => ({ type, position, occurredAt, data }) as PurposeEvent)
    .filter(isPurposeEvent);

/** The purposes' configuration over the log, as it stands now (no cache: a change counts at once). */
export const readPurposeEvents = async (store: EventStore): Promise<PurposeEvent[]> =>
  purposeEventsOf(await store.readStream(PURPOSES_STREAM));
export const readPurposeTimeline = async (store: EventStore): Promise<PurposeTimeline> =>
  new PurposeTimeline(await readPurposeEvents(store));

export type PurposeView = ReturnType<typeof purposeView>;

/**
 * Configures a purpose (a configuration event; the same configuration again appends nothing), and
 * answers with it as now in force.
 */
export async function configurePurpose(
  context: LedgerContext,
  code: string,
  settings: PurposeSettings,
): Promise<{ purpose: PurposeView; changed: boolean }> {
  const { result } = await handleCommand(context, PURPOSES_STREAM, {
    state: async (stored) => new PurposeTimeline(purposeEventsOf(stored)).current,
    decide: (state) => {
      const data = decideConfigurePurpose(state, code, settings);
      return {
        events: data ? [{ type: PURPOSE_CONFIGURED, stream: PURPOSES_STREAM, organizationId: '', data }] : [],
        result: data !== null,
      };
    },
  });
  const purpose = (await readPurposeTimeline(context.store)).current.get(code)!;
  return { purpose: purposeView(purpose), changed: result };
}

/** Every purpose as now configured, by code. */
export async function listPurposes(context: Pick<LedgerContext, 'store'>): Promise<PurposeView[]> {
  const { current } = await readPurposeTimeline(context.store);
  return [...current.values()].sort((a, b) => a.code.localeCompare(b.code)).map(purposeView);
}
