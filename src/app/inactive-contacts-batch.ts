import { createHash } from 'node:crypto';
import { requirePastAsOf } from '../domain/as-of.js';
import { SimulationOutdated, ValidationError } from '../domain/errors.js';
import { contactStream } from '../domain/identifiers.js';
import {
  BATCH_OUTCOMES,
  batchStream,
  classifyInactive,
  decideInactiveContact,
  DEFAULT_INACTIVITY_MONTHS,
  inactiveOutcome,
  inactivityCutoff,
  inactivityFactsFromLog,
  type BatchOutcome,
  type BatchRunEvent,
  type LogOnlyOutcome,
} from '../domain/inactive-contacts.js';
import { decideOrderPurge, type OrderFact } from '../domain/order-purge.js';
import type { ContactView } from '../domain/contact-view.js';
import type { PurposeEvent } from '../domain/purposes.js';
import type { ProposedContact, ReadModels } from '../projections/read-models.js';
import type { StoredEvent } from '../store/event-store.js';
import { appendSealed } from './append-sealed.js';
import { viewOfStream } from './contact-view.js';
import { decideOnStream, handleCommand, retryOnConflict, type Command } from './handle-command.js';
import type { LedgerContext } from './ledger-context.js';
import { loggedFacts } from './logged-facts.js';
import { readPurposeEvents } from './purposes.js';
import { openEvent } from './sealing.js';

export interface InactiveBatchCommand {
  /** Default 36 (the reference pages' three years). */
  inactivityMonths?: number;
  /** The day the inactivity is measured from; default now; never in the future. */
  asOf?: Date;
  /** Default false: a simulation, which writes nothing. */
  apply?: boolean;
  /**
   * The simulation this run applies (its report's `simulationId`): the run takes its as-of and
   * months, and is refused (SimulationOutdated, 409) when the outcome now differs from it.
   */
  simulationId?: string;
  /** Called after each group of contacts decided, with the number done and the number proposed. */
  onProgress?: (done: number, total: number) => void;
  /**
   * Destroys the keys of appended forgettings (Shredder.shredAll): given by a process that has no
   * shredder reaction following the log (the CLI), it runs beside the deciding, on the key store's
   * writer, instead of after it.
   */
  shred?: (events: readonly ForgettingEvent[]) => Promise<number>;
}

type Outcome = BatchOutcome | LogOnlyOutcome;

/** What a run did, or what a simulation found it would do: per outcome the count and the contact ids. */
export interface InactiveBatchReport {
  runId: string | null;
  simulated: boolean;
  /** Names this outcome: a run given it applies exactly this, or is refused when the outcome changed. */
  simulationId: string;
  asOf: string;
  inactivityMonths: number;
  cutoff: string;
  counts: Record<BatchOutcome | 'orderDataPurged', number> & Partial<Record<LogOnlyOutcome, number>>;
  contacts: Record<BatchOutcome, string[]> & Partial<Record<LogOnlyOutcome, string[]>>;
  /**
   * Orders with at least one ticket purged: its beneficiary data but the country and its address
   * and e-mail answers go (ends of validity before the cutoff); the buyer IP with the order's last.
   */
  ordersPurged: string[];
}

type ForgettingEvent = Pick<StoredEvent, 'id' | 'type' | 'stream' | 'organizationId' | 'occurredAt' | 'data'>;

/** One contact's share of a run: whether the read model proposes to forget it, and its orders to purge. */
interface Unit {
  contactId: string;
  /** The read model's outcome (null: only its orders are proposed). */
  proposed: BatchOutcome | null;
  /** The read model's row it was proposed from. */
  row: ProposedContact | null;
  orders: string[];
}

/** What the log decides for one unit: the contact's outcome (when it was proposed) and the orders purged. */
interface UnitDecision {
  outcome: Outcome | null;
  purged: string[];
}

/** What a unit's decision reads of its stream. */
interface UnitState {
  /** The stream, the seals of the orders being purged opened when applying (the country kept). */
  opened: OrderFact[];
  /** The log's outcome for a proposed contact (null: not inactive in the log). */
  outcome: BatchOutcome | null;
  /** Forgotten in the log (since the read model proposed it): in no outcome of the report. */
  forgotten: boolean;
  /** A legal hold in the log: it blocks the purge of the contact's orders as it blocks forgetting. */
  legalHold: boolean;
  /** The contact's view when it was proposed (its address opened when an anonymization keeps it). */
  view: ContactView | null;
  organizationId: string;
}

/** The events whose personal part holds a contact's address. */
const ADDRESS_TYPES: ReadonlySet<string> = new Set(['ContactRegistered', 'ContactDetailsChanged']);

/** Contacts decided at once: their appends share group commits. */
const IN_FLIGHT = 128;

/**
 * Runs `work` on every item, a group of IN_FLIGHT at a time, and `done` on each group's results
 * in order. The next group is decided while the previous one commits: one group of appends in
 * the writer thread, one being decided on this one. Items are distinct contacts, so no two
 * decisions of a run ever race for one stream.
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
 * The inactive-contact batch (DESIGN.md "Forgetting"). The read model proposes: the listed
 * contacts whose recency is older than the cutoff, and the orders with a ticket ended before it.
 * A run decides each proposed contact from its stream (with the sales naming it as cultural
 * contact), its order purges and its forgetting in one decision appended at the revision it read.
 * A simulation appends nothing and takes the same decisions: from the stream too, unless the
 * contact's row proves it holds what the log gives (see simulate). A run records itself in its own
 * stream; the shredder destroys the keys.
 */
export async function runInactiveBatch(
  context: LedgerContext & {
    readModels: Pick<ReadModels, 'inactivityFactsBefore' | 'purgeableOrdersBefore'>;
    runner: { catchUp(): Promise<number> };
  },
  command: InactiveBatchCommand = {},
): Promise<{ report: InactiveBatchReport; forgotten: ForgettingEvent[]; keysDestroyed: number }> {
  const reviewed = command.simulationId === undefined ? null : parseSimulationId(command.simulationId);
  const inactivityMonths = reviewed?.inactivityMonths ?? command.inactivityMonths ?? DEFAULT_INACTIVITY_MONTHS;
  const asOf = reviewed ? new Date(reviewed.asOf) : (command.asOf ?? context.now());
  const cutoff = inactivityCutoff(asOf, inactivityMonths);
  requirePastAsOf(asOf, context.now(), 'the inactive-contact batch');
  await context.runner.catchUp(); // the read model proposes: bring it up to the log first
  const units = await proposedUnits(context.readModels, cutoff);
  const purposes = await readPurposeEvents(context.store);
  const header = { asOf: asOf.toISOString(), inactivityMonths, cutoff };
  const settings = { cutoff, purposes, runId: '' };

  if (!command.apply || reviewed) {
    const simulated = await simulate(context, units, settings);
    const report = reportOf({ runId: null, simulated: true, ...header }, simulated);
    if (!command.apply) return { report, forgotten: [], keysDestroyed: 0 };
    const changed = differences(reviewed!, report);
    if (changed) throw new SimulationOutdated(changed);
  }

  const runId = context.newId();
  await appendRunEvents(context, runId, [{ type: 'InactiveBatchStarted', data: { runId, ...header } }]);
  const forgotten: ForgettingEvent[] = [];
  const shredding = new ShredAlong(command.shred);
  const decided = new Map<string, UnitDecision>();
  await inGroups(
    units,
    (unit) =>
      retryOnConflict(async () => {
        const stream = contactStream(unit.contactId);
        const { result, appended } = await handleCommand(
          context,
          stream,
          unitCommand(context, unit, { ...settings, runId }, true),
        );
        return {
          ...result,
          appended: appended.map(({ id, type, organizationId, occurredAt, data }) => ({
            id,
            type,
            stream,
            organizationId,
            occurredAt,
            data,
          })),
        };
      }),
    async (results) => {
      const skips: BatchRunEvent[] = [];
      const groupForgotten: ForgettingEvent[] = [];
      for (const [{ contactId }, { appended, ...decision }] of results) {
        decided.set(contactId, decision);
        groupForgotten.push(...appended);
        const { outcome } = decision;
        if (outcome && appended.every((event) => event.type === 'OrderDataPurged')) {
          skips.push({ type: 'InactiveContactSkipped', data: { contactId, reason: outcome } });
        }
      }
      forgotten.push(...groupForgotten);
      // The group's forgettings at once: one journal write (and fsync) and one keys.db commit for them all.
      shredding.add(groupForgotten);
      await appendRunEvents(context, runId, skips);
      command.onProgress?.(decided.size, units.length);
    },
  );
  const report = reportOf({ runId, simulated: false, ...header }, decided);
  await appendRunEvents(context, runId, [{ type: 'InactiveBatchCompleted', data: { counts: report.counts } }]);
  return { report, forgotten, keysDestroyed: await shredding.done() };
}

/** Proposed contacts whose log heads are looked up at once. */
const HEADS_PAGE = 10_000;

/**
 * What a run would decide on each unit, appending nothing. A proposed contact with no order to
 * purge, whose row's proof holds and which was folded up to the log's head for the contact (its
 * stream, and the sales naming it), is decided from its row: folding the log again would give the
 * same facts. Every other unit (a row edited, restored from an older copy, behind the log, or with
 * orders) is decided from its stream, exactly as a run decides it.
 */
async function simulate(
  context: LedgerContext,
  units: readonly Unit[],
  settings: { cutoff: string; purposes: readonly PurposeEvent[]; runId: string },
): Promise<Array<[string, UnitDecision]>> {
  // By the unit's index, not in a map of a million contact ids (the simulation's budget).
  const decisions = new Array<UnitDecision | undefined>(units.length);
  const fromLog: number[] = [];
  const now = context.now();
  for (let start = 0; start < units.length; start += HEADS_PAGE) {
    const page = Array.from({ length: Math.min(HEADS_PAGE, units.length - start) }, (_, k) => start + k);
    const provable = page.filter((i) => units[i]!.row?.proven && units[i]!.orders.length === 0);
    const heads = await context.store.headsOf(
      provable.map((i) => ({ stream: contactStream(units[i]!.contactId), mentioned: units[i]!.contactId })),
    );
    provable.forEach((i, k) => {
      const { proposed, row } = units[i]!;
      if (heads[k] === row!.headPosition)
        decisions[i] = { outcome: inactiveOutcome(proposed, row!.validUntil, now), purged: [] };
    });
    for (const i of page) if (!decisions[i]) fromLog.push(i);
  }
  await inGroups(
    fromLog,
    (i) =>
      decideOnStream(context, contactStream(units[i]!.contactId), unitCommand(context, units[i]!, settings, false)),
    (results) => results.forEach(([i, decision]) => (decisions[i] = decision)),
  );
  return units.map((unit, i) => [unit.contactId, decisions[i]!]);
}

/**
 * The read model's proposals, one unit per contact, in contact id order. The candidates come in
 * that order already: a unit each, without a map of a million ids (the simulation's budget); the
 * buyers of purgeable orders are joined to them, or added, and sorted in only then.
 */
async function proposedUnits(
  readModels: Pick<ReadModels, 'inactivityFactsBefore' | 'purgeableOrdersBefore'>,
  cutoff: string,
): Promise<Unit[]> {
  const units: Unit[] = [];
  for await (const page of readModels.inactivityFactsBefore(cutoff)) {
    for (const row of page) {
      const proposed = classifyInactive(row.facts, cutoff);
      if (proposed) units.push({ contactId: row.facts.contactId, proposed, row, orders: [] });
    }
  }
  const ordersOf = new Map<string, string[]>();
  for await (const page of readModels.purgeableOrdersBefore(cutoff)) {
    for (const { orderId, contactId } of page) {
      const orders = ordersOf.get(contactId);
      if (orders) orders.push(orderId);
      else ordersOf.set(contactId, [orderId]);
    }
  }
  if (ordersOf.size === 0) return units;
  for (const unit of units) {
    unit.orders = ordersOf.get(unit.contactId) ?? [];
    ordersOf.delete(unit.contactId);
  }
  for (const [contactId, orders] of ordersOf) units.push({ contactId, proposed: null, row: null, orders });
  return units.sort((a, b) => (a.contactId < b.contactId ? -1 : a.contactId > b.contactId ? 1 : 0));
}

/**
 * The decision on one contact, from its stream as read: the purge of each ticket of a proposed
 * order that ended before the cutoff (none under a legal hold), then (when the contact was
 * proposed) its outcome and forgetting. Seals are opened only when applying, and only those whose
 * data a forgetting keeps (an anonymized customer's address, a purged ticket's beneficiary country
 * and text answers): no outcome depends on them.
 */
function unitCommand(
  context: LedgerContext,
  unit: Unit,
  { cutoff, purposes, runId }: { cutoff: string; purposes: readonly PurposeEvent[]; runId: string },
  applying: boolean,
): Command<UnitState, UnitDecision> {
  const { contactId } = unit;
  const orders = new Set(unit.orders);
  return {
    state: async (stored) => {
      const mentions = unit.proposed ? loggedFacts(await context.store.readMentions(contactId)) : [];
      const facts = inactivityFactsFromLog(contactId, loggedFacts(stored), mentions, purposes);
      const outcome = unit.proposed ? classifyInactive(facts, cutoff) : null;
      const opened: OrderFact[] = [];
      for (const event of stored) {
        const purging = applying && orders.has(String(event.data['orderId']));
        opened.push(purging ? await openEvent(event, context.keys) : event);
      }
      const keepsAddress = applying && outcome === 'anonymized';
      const forView = stored.map((event) => (keepsAddress && ADDRESS_TYPES.has(event.type) ? event : unsealed(event)));
      // A proposed contact without a stream (a read model ahead of a restored log) is not inactive in the log.
      const view = unit.proposed && stored.length > 0 ? await viewOfStream(context, contactId, forView) : null;
      const { legalHold } = facts;
      const forgotten = facts.status !== 'active';
      return { opened, outcome, forgotten, legalHold, view, organizationId: stored[0]?.organizationId ?? '' };
    },
    decide: ({ opened, outcome, forgotten, legalHold, view, organizationId }, now) => {
      const events = [];
      const purged: string[] = [];
      let held = false;
      for (const orderId of unit.orders) {
        const purge = decideOrderPurge(opened, orderId, { cutoff, runId, legalHold });
        held ||= purge.held;
        if (purge.events.length === 0) continue;
        purged.push(orderId);
        events.push(...purge.events.map((event) => ({ ...event, contactId, organizationId })));
      }
      // A held contact that is no candidate itself still says why its old orders were not purged.
      let decided: Outcome | null = held ? 'purgeSkippedLegalHold' : null;
      if (unit.proposed && !forgotten) {
        const { outcome: contactOutcome, forgetting } = view
          ? decideInactiveContact(outcome, view, runId, now)
          : { outcome: 'notInactiveInLog' as const, forgetting: null };
        decided = contactOutcome;
        if (forgetting) events.push({ ...forgetting, contactId, organizationId });
      }
      return { events, result: { outcome: decided, purged } };
    },
  };
}

const unsealed = (event: StoredEvent): StoredEvent => (event.sealed ? { ...event, sealed: null } : event);

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

/** The report of decisions, in contact (and order) id order, with the id that names its outcome. */
function reportOf(
  header: Pick<InactiveBatchReport, 'runId' | 'simulated' | 'asOf' | 'inactivityMonths' | 'cutoff'>,
  decisions: Iterable<readonly [string, UnitDecision]>,
): InactiveBatchReport {
  const contacts = Object.fromEntries(BATCH_OUTCOMES.map((outcome) => [outcome, [] as string[]])) as Record<
    Outcome,
    string[]
  >;
  const ordersPurged: string[] = [];
  for (const [contactId, { outcome, purged }] of decisions) {
    if (outcome) (contacts[outcome] ??= []).push(contactId);
    ordersPurged.push(...purged);
  }
  for (const ids of Object.values(contacts)) ids.sort();
  ordersPurged.sort();
  const counts = Object.fromEntries(Object.entries(contacts).map(([outcome, ids]) => [outcome, ids.length]));
  const report = {
    ...header,
    simulationId: '',
    counts: { ...counts, orderDataPurged: ordersPurged.length } as InactiveBatchReport['counts'],
    contacts,
    ordersPurged,
  };
  report.simulationId = simulationIdOf(report);
  return report;
}

/** Each outcome's count and a digest of its ids: what a simulation id carries, to say what changed. */
type OutcomeDigests = Record<string, { count: number; digest: string }>;

interface SimulationSummary {
  asOf: string;
  inactivityMonths: number;
  outcomes: OutcomeDigests;
}

function outcomeDigests(report: Pick<InactiveBatchReport, 'contacts' | 'ordersPurged'>): OutcomeDigests {
  const lists: Array<[string, readonly string[]]> = [
    ...Object.entries(report.contacts).filter(([, ids]) => ids.length > 0),
    ['orderDataPurged', report.ordersPurged],
  ];
  return Object.fromEntries(
    lists.map(([outcome, ids]) => [
      outcome,
      { count: ids.length, digest: createHash('sha256').update(ids.join('\n')).digest('base64url').slice(0, 16) },
    ]),
  );
}

/** The simulation id: its as-of, months and outcomes (counts and digests of the ids), base64url. */
function simulationIdOf(report: Omit<InactiveBatchReport, 'simulationId'>): string {
  const summary: SimulationSummary = {
    asOf: report.asOf,
    inactivityMonths: report.inactivityMonths,
    outcomes: outcomeDigests(report),
  };
  return Buffer.from(JSON.stringify(summary)).toString('base64url');
}

function parseSimulationId(simulationId: string): SimulationSummary {
  let summary: Partial<SimulationSummary> | null = null;
  try {
    summary = JSON.parse(Buffer.from(simulationId, 'base64url').toString('utf8')) as Partial<SimulationSummary>;
  } catch {
    summary = null;
  }
  const valid =
    summary !== null &&
    typeof summary.asOf === 'string' &&
    !Number.isNaN(Date.parse(summary.asOf)) &&
    Number.isInteger(summary.inactivityMonths) &&
    typeof summary.outcomes === 'object' &&
    summary.outcomes !== null;
  if (!valid) {
    throw new ValidationError('simulationId is not the simulationId of a simulation report', [
      { pointer: '/simulationId', message: 'is not a simulation id' },
    ]);
  }
  return summary as SimulationSummary;
}

/** The outcomes whose contacts (or orders) differ between a reviewed simulation and the outcome now, or null. */
function differences(
  reviewed: SimulationSummary,
  now: InactiveBatchReport,
): Record<string, { simulated: number; now: number }> | null {
  const current = outcomeDigests(now);
  const changed: Record<string, { simulated: number; now: number }> = {};
  for (const outcome of new Set([...Object.keys(reviewed.outcomes), ...Object.keys(current)])) {
    const before = reviewed.outcomes[outcome] ?? { count: 0, digest: '' };
    const after = current[outcome] ?? { count: 0, digest: '' };
    if (before.digest !== after.digest) {
      changed[outcome] = { simulated: before.count, now: after.count };
    }
  }
  return Object.keys(changed).length > 0 ? changed : null;
}
