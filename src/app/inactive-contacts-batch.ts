import { ConcurrencyConflict } from '../domain/errors.js';
import { contactStream } from '../domain/identifiers.js';
import {
  BATCH_OUTCOMES,
  batchStream,
  classifyInactive,
  decideInactiveContact,
  DEFAULT_INACTIVITY_MONTHS,
  inactivityCutoff,
  inactivityFactsFromLog,
  type BatchOutcome,
  type BatchRunEvent,
  type LogOnlyOutcome,
} from '../domain/inactive-contacts.js';
import type { ReadModels } from '../projections/read-models.js';
import type { StoredEvent } from '../store/event-store.js';
import { appendSealed } from './append-sealed.js';
import type { PurposeEvent } from '../domain/purposes.js';
import { viewOfStream } from './contact-view.js';
import { openEvent } from './sealing.js';
import { handleCommand } from './handle-command.js';
import { decideOrderPurge } from '../domain/order-purge.js';
import { loggedFacts } from './logged-facts.js';
import { readPurposeEvents } from './purposes.js';
import type { LedgerContext } from './ledger-context.js';

export interface InactiveBatchCommand {
  /** Default 36 (the reference pages' three years). */
  inactivityMonths?: number;
  /** The day the inactivity is measured from; default now. */
  asOf?: Date;
  /** Default false: a simulation, which writes nothing. */
  apply?: boolean;
  /** Called after each contact decided when applying, with the number done and the number proposed. */
  onProgress?: (done: number, total: number) => void;
  /**
   * Destroys the keys of appended forgettings (Shredder.shredAll): given by a process that has no
   * shredder reaction following the log (the CLI), it runs beside the deciding, on the key store's
   * writer, instead of after it.
   */
  shred?: (events: readonly ForgettingEvent[]) => Promise<number>;
}

/**
 * What a run did, or would do: per outcome the count and the contact ids. Applying may add the
 * outcomes only the log gives (LogOnlyOutcome); otherwise a simulation made just before an
 * application reports the same.
 */
export interface InactiveBatchReport {
  runId: string | null;
  simulated: boolean;
  asOf: string;
  inactivityMonths: number;
  cutoff: string;
  counts: Record<BatchOutcome | 'orderDataPurged', number> & Partial<Record<LogOnlyOutcome, number>>;
  contacts: Record<BatchOutcome, string[]> & Partial<Record<LogOnlyOutcome, string[]>>;
  /** Orders whose every ticket ended validity before the cutoff: their beneficiary data and buyer IP go. */
  ordersPurged: string[];
}

type ForgettingEvent = Pick<StoredEvent, 'id' | 'type' | 'stream' | 'data'>;

/** The events whose personal part holds a contact's address. */
const ADDRESS_TYPES: ReadonlySet<string> = new Set(['ContactRegistered', 'ContactDetailsChanged']);

/** Decisions in flight when applying: a group's appends share group commits. */
const IN_FLIGHT = 128;

/**
 * Runs `work` on every item, a group of IN_FLIGHT at a time, and `done` on each group's results
 * in order. The next group is decided while the previous one commits: one group of appends in
 * the writer thread, one being decided on this one.
 */
async function inGroups<T, R>(
  items: readonly T[],
  work: (item: T) => Promise<R>,
  done: (results: Array<[T, R]>) => unknown,
): Promise<void> {
  let previous: Promise<unknown> = Promise.resolve();
  for (let i = 0; i < items.length; i += IN_FLIGHT) {
    const group = items.slice(i, i + IN_FLIGHT);
    const results = Promise.all(group.map(async (item): Promise<[T, R]> => [item, await work(item)]));
    results.catch(() => {}); // its error is thrown below, once the previous group is done
    await previous;
    previous = results.then(done);
  }
  await previous;
}

/**
 * The inactive-contact batch (DESIGN.md "Forgetting"). The read model proposes: every listed
 * contact whose recency is older than the cutoff. A simulation reports the rule's outcome for each
 * from the read model and writes nothing. Applying records the run in its own stream, then folds
 * each proposed contact's stream again (with the sales naming it as cultural contact) and decides
 * from the log alone, appending at the revision it read; the shredder destroys the keys. Returns
 * the report and the forgetting events appended (for a caller without a shredder reaction).
 */
export async function runInactiveBatch(
  context: LedgerContext & { readModels: Pick<ReadModels, 'inactivityFactsBefore' | 'purgeableOrdersBefore'> },
  command: InactiveBatchCommand = {},
): Promise<{ report: InactiveBatchReport; forgotten: ForgettingEvent[]; keysDestroyed: number }> {
  const inactivityMonths = command.inactivityMonths ?? DEFAULT_INACTIVITY_MONTHS;
  const asOf = command.asOf ?? context.now();
  const cutoff = inactivityCutoff(asOf, inactivityMonths);
  const proposed = new Map<string, BatchOutcome>();
  for await (const page of context.readModels.inactivityFactsBefore(cutoff)) {
    for (const facts of page) {
      const outcome = classifyInactive(facts, cutoff);
      if (outcome) proposed.set(facts.contactId, outcome);
    }
  }
  const purgeable: Array<{ orderId: string; contactId: string }> = [];
  for await (const page of context.readModels.purgeableOrdersBefore(cutoff)) purgeable.push(...page);
  const header = { asOf: asOf.toISOString(), inactivityMonths, cutoff };
  if (!command.apply) {
    const report = {
      runId: null,
      simulated: true,
      ...header,
      ...tally(
        proposed,
        purgeable.map((o) => o.orderId),
      ),
    };
    return { report, forgotten: [], keysDestroyed: 0 };
  }

  const runId = context.newId();
  await appendRunEvents(context, runId, [{ type: 'InactiveBatchStarted', data: { runId, ...header } }]);
  const forgotten: ForgettingEvent[] = [];
  const shredding = new ShredAlong(command.shred);
  const appended = (events: ForgettingEvent[]) => {
    forgotten.push(...events);
    shredding.add(events);
  };
  // Old orders first, whoever their buyer: the purge does not depend on the buyer's forgetting.
  const purged: string[] = [];
  await inGroups(
    purgeable,
    (order) => purgeFromLog(context, order, cutoff, runId),
    (results) => {
      const events = results.flatMap(([, event]) => (event ? [event] : []));
      appended(events);
      purged.push(...events.map((event) => String(event.data['orderId'])));
    },
  );
  const decided = new Map<string, BatchOutcome | LogOnlyOutcome>();
  const candidates = [...proposed.keys()];
  const purposes = await readPurposeEvents(context.store);
  await inGroups(
    candidates,
    (contactId) => decideFromLog(context, contactId, { cutoff, runId, purposes }),
    async (results) => {
      const skips: BatchRunEvent[] = [];
      for (const [contactId, { outcome, event }] of results) {
        decided.set(contactId, outcome);
        if (!event) skips.push({ type: 'InactiveContactSkipped', data: { contactId, reason: outcome } });
      }
      appended(results.flatMap(([, { event }]) => (event ? [event] : [])));
      await appendRunEvents(context, runId, skips);
      command.onProgress?.(decided.size, candidates.length);
    },
  );
  const report = { runId, simulated: false, ...header, ...tally(decided, purged) };
  await appendRunEvents(context, runId, [{ type: 'InactiveBatchCompleted', data: { counts: report.counts } }]);
  return { report, forgotten, keysDestroyed: await shredding.done() };
}

/**
 * Hands each group of appended forgettings to the shredder without waiting for it: the keys are
 * destroyed on the key store's writer thread while the batch decides on. `done` waits for them all.
 */
class ShredAlong {
  private readonly groups: Promise<number>[] = [];

  constructor(private readonly shred: ((events: readonly ForgettingEvent[]) => Promise<number>) | undefined) {}

  add(events: readonly ForgettingEvent[]): void {
    if (!this.shred || events.length === 0) return;
    const group = this.shred(events);
    group.catch(() => {}); // awaited, and its error thrown, by done()
    this.groups.push(group);
  }

  async done(): Promise<number> {
    const counts = await Promise.all(this.groups);
    return counts.reduce((sum, count) => sum + count, 0);
  }
}

/**
 * Decides one proposed contact from the log and appends its forgetting, if any, at the revision
 * the decision read; a concurrent append to the stream makes it decide again.
 */
async function decideFromLog(
  context: LedgerContext,
  contactId: string,
  { cutoff, runId, purposes }: { cutoff: string; runId: string; purposes: readonly PurposeEvent[] },
): Promise<{ outcome: BatchOutcome | LogOnlyOutcome; event: ForgettingEvent | null }> {
  const mentions = loggedFacts(await context.store.readMentions(contactId));
  const stream = contactStream(contactId);
  return retryOnConflict(async () => {
    const { result, appended } = await handleCommand(context, stream, {
      state: async (stored) => {
        const outcome = classifyInactive(
          inactivityFactsFromLog(contactId, loggedFacts(stored), mentions, purposes),
          cutoff,
        );
        // Seals are opened only to keep an anonymized customer's country, town and postcode: those
        // of the events that carry an address (the others' keys are not even fetched).
        const addressOnly = stored.map((event) => (ADDRESS_TYPES.has(event.type) ? event : { ...event, sealed: null }));
        const view = outcome === 'anonymized' ? await viewOfStream(context, contactId, addressOnly) : null;
        return { outcome, view, organizationId: stored[0]?.organizationId ?? '' };
      },
      decide: ({ outcome, view, organizationId }, now) => {
        const decided = decideInactiveContact(outcome, view, runId, now);
        const { forgetting } = decided;
        return { events: forgetting ? [{ ...forgetting, contactId, organizationId }] : [], result: decided.outcome };
      },
    });
    const event = appended[0];
    return { outcome: result, event: event ? { id: event.id, type: event.type, stream, data: event.data } : null };
  });
}

/**
 * Decides the purge of one proposed order on its buyer's stream, the order's seals opened (the
 * beneficiary's country is kept), and appends it at the revision read.
 */
async function purgeFromLog(
  context: LedgerContext,
  { orderId, contactId }: { orderId: string; contactId: string },
  cutoff: string,
  runId: string,
): Promise<ForgettingEvent | null> {
  const stream = contactStream(contactId);
  return retryOnConflict(async () => {
    const { appended } = await handleCommand(context, stream, {
      // The order's own seals, opened by the ledger to keep the beneficiary's country, even when
      // the buyer is forgotten (no view ever opens them then; the purge is what ends them).
      state: async (stored) => {
        const opened = [];
        for (const event of stored) {
          opened.push(event.data['orderId'] === orderId ? await openEvent(event, context.keys) : event);
        }
        return { opened, organizationId: stored[0]!.organizationId };
      },
      decide: ({ opened, organizationId }) => {
        const purge = decideOrderPurge(opened, orderId, cutoff, runId);
        return { events: purge ? [{ ...purge, contactId, organizationId }] : [], result: null };
      },
    });
    const event = appended[0];
    return event ? { id: event.id, type: event.type, stream, data: event.data } : null;
  });
}

/** Runs a read–decide–append again when another writer appended to the stream in between. */
async function retryOnConflict<T>(work: () => Promise<T>, attempts = 3): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof ConcurrencyConflict && attempts > 1) return retryOnConflict(work, attempts - 1);
    throw error;
  }
}

function appendRunEvents(context: LedgerContext, runId: string, events: readonly BatchRunEvent[]) {
  if (events.length === 0) return Promise.resolve();
  const occurredAt = context.now().toISOString();
  return appendSealed(
    context,
    events.map((event) => ({
      id: context.newId(),
      type: event.type,
      stream: batchStream(runId),
      occurredAt,
      organizationId: '',
      data: event.data,
    })),
  );
}

function tally(outcomes: ReadonlyMap<string, BatchOutcome | LogOnlyOutcome>, ordersPurged: string[]) {
  const contacts = Object.fromEntries(BATCH_OUTCOMES.map((outcome) => [outcome, [] as string[]])) as Record<
    BatchOutcome | LogOnlyOutcome,
    string[]
  >;
  for (const [contactId, outcome] of outcomes) (contacts[outcome] ??= []).push(contactId);
  const counts = Object.fromEntries(Object.entries(contacts).map(([outcome, ids]) => [outcome, ids.length]));
  return {
    counts: { ...counts, orderDataPurged: ordersPurged.length } as InactiveBatchReport['counts'],
    contacts,
    ordersPurged,
  };
}
