import { Type } from '@sinclair/typebox';
import { evolveContactFlags, initialContactFlags, type ContactFlags } from './contact-flags.js';
import type { ContactView } from './contact-view.js';
import { decideForgetting, latestValidUntil, type ContactForgetting } from './forgetting.js';
import type { PurposeEvent } from './purposes.js';
import { foldRecencies, recencyOf, type RecencyInput } from './recency.js';
import { ValidationError } from './errors.js';

/**
 * The inactive-contact batch (DESIGN.md "Forgetting"; reference: ticketing-gdpr-features-v1.fr.txt
 * and -v2.en.txt, "Anonymization/deletion of inactive contacts"). One rule classifies a contact,
 * whether its facts come from the read model (to propose candidates, and to simulate) or are
 * folded from the log (to decide): a wrong read model can only propose, never forget.
 */
export const DEFAULT_INACTIVITY_MONTHS = 36;
/** The longest inactivity period a run takes: a hundred years. */
const MAX_INACTIVITY_MONTHS = 1200;

/** The inactivity period of a request body or a schedule: whole months, one to MAX_INACTIVITY_MONTHS. */
export const InactivityMonths = () => Type.Integer({ minimum: 1, maximum: MAX_INACTIVITY_MONTHS });

/** "The batch only deals with individual contacts and relays": structures and other roles never. */
export const BATCH_ROLES: readonly string[] = ['individual', 'relay'];

export const BATCH_OUTCOMES = ['anonymized', 'erased', 'skippedDebtorOrCreditor', 'skippedLegalHold'] as const;
export type BatchOutcome = (typeof BATCH_OUTCOMES)[number];
/**
 * Outcomes only the log's decision gives: a contact the read model proposed but the log does not
 * (a read model behind the log, or tampered with), and a customer inactive by its recency who still
 * holds a ticket valid today (an undated product with a validity period), and a contact that is no
 * candidate but whose ended tickets a legal hold keeps from the purge.
 */
export type LogOnlyOutcome = 'notInactiveInLog' | 'skippedValidTicket' | 'purgeSkippedLegalHold';

/** What the rule reads of a contact; no personal data. */
export interface InactivityFacts {
  contactId: string;
  role: string | null;
  status: ContactFlags['status'];
  /** Registered in its own stream: an id only named as someone's cultural contact is no candidate. */
  registered: boolean;
  /** Bought a ticket, or benefited from one as cultural contact: anonymized, not erased. */
  customer: boolean;
  balance: number;
  legalHold: boolean;
  recency: string | null;
}

/** The batch's outcome for a contact, or null when it is no candidate (active, forgotten, another role). */
export function classifyInactive(facts: InactivityFacts, cutoff: string): BatchOutcome | null {
  if (!facts.registered || facts.status !== 'active' || !BATCH_ROLES.includes(facts.role ?? '')) return null;
  if (facts.recency === null || facts.recency >= cutoff) return null;
  if (facts.legalHold) return 'skippedLegalHold';
  if (facts.balance !== 0) return 'skippedDebtorOrCreditor';
  return facts.customer ? 'anonymized' : 'erased';
}

/**
 * The cutoff `months` calendar months before `asOf` (UTC), the day clamped to the month's last
 * (31 May minus 3 months is 28 or 29 February, not 3 March). Recency strictly before it is inactive.
 */
export function inactivityCutoff(asOf: Date, months: number): string {
  if (!Number.isInteger(months) || months < 1 || months > MAX_INACTIVITY_MONTHS) {
    const range = `from 1 to ${MAX_INACTIVITY_MONTHS}`;
    throw new ValidationError(`inactivityMonths must be a whole number of months ${range}`, [
      { pointer: '/inactivityMonths', message: `must be an integer ${range}` },
    ]);
  }
  return shiftMonths(asOf, -months).toISOString();
}

/** `date` moved by whole calendar months (UTC), the day clamped to the month's last. */
function shiftMonths(date: Date, months: number): Date {
  const year = date.getUTCFullYear();
  const month = date.getUTCMonth() + months;
  const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  const shifted = new Date(date);
  shifted.setUTCFullYear(year, month, Math.min(date.getUTCDate(), lastDay));
  return shifted;
}

/**
 * When and how the batch would forget a contact if nothing happens, what the privacy center tells
 * the person ("anonymised after 12 March 2029, unless ..."): `months` calendar months after its
 * recency (the day clamped as inactivityCutoff clamps it), anonymized or erased as classifyInactive
 * would classify it then. Null for a contact the batch never forgets (another role, no recency,
 * already forgotten) or would skip as it stands (a legal hold, a balance owed either way).
 */
export function inactiveAfter(
  facts: InactivityFacts,
  months: number,
): { date: string; outcome: 'anonymized' | 'erased' } | null {
  if (facts.recency === null) return null;
  const date = shiftMonths(new Date(facts.recency), months);
  // As a run of that day classifies it: its recency is then just older than the cutoff.
  const outcome = classifyInactive(facts, date.toISOString());
  return outcome === 'anonymized' || outcome === 'erased' ? { date: date.toISOString(), outcome } : null;
}

/** An event as the log gives it to the rule: clear fields only (recency and flags need nothing sealed). */
export type LoggedFact = RecencyInput;

/**
 * A contact's facts folded from the log: its own stream, and the order activities of other
 * streams that name it as cultural contact (they move its recency, and a sale makes it a customer).
 */
export function inactivityFactsFromLog(
  contactId: string,
  own: readonly LoggedFact[],
  mentions: readonly LoggedFact[],
  /** The purposes' configuration events: which consent event is a change depends on them. */
  purposes: readonly PurposeEvent[] = [],
): InactivityFacts {
  let flags = initialContactFlags();
  for (const event of own) flags = evolveContactFlags(flags, event);
  const merged = [...own, ...mentions, ...purposes].sort((a, b) => a.position - b.position);
  const recency = foldRecencies(merged).get(contactId);
  return {
    contactId,
    role: flags.role,
    status: flags.status,
    registered: own.some((event) => event.type === 'ContactRegistered'),
    customer: flags.customer || mentions.some((event) => event.type === 'TicketSold'),
    balance: flags.balance?.amount ?? 0,
    legalHold: flags.legalHold,
    recency: recency ? (recencyOf(recency)?.date ?? null) : null,
  };
}

/**
 * The batch's outcome for a contact whose facts classify as `outcome` (null: no candidate in the
 * log), when `validUntil` is the latest end of validity of its tickets: a customer or prospect
 * still holding a valid ticket is skipped.
 */
export function inactiveOutcome(
  outcome: BatchOutcome | null,
  validUntil: string | null,
  now: Date,
): BatchOutcome | LogOnlyOutcome {
  if (outcome === null) return 'notInactiveInLog';
  const forgets = outcome === 'anonymized' || outcome === 'erased';
  return forgets && validUntil !== null && validUntil > now.toISOString() ? 'skippedValidTicket' : outcome;
}

/**
 * The batch's decision on a contact whose log facts classify as `outcome` (null: no candidate):
 * the one forgetting decision (decideForgetting: a customer anonymized, a prospect erased) unless
 * a ticket is still valid; a skip appends nothing to the contact.
 */
export function decideInactiveContact(
  outcome: BatchOutcome | null,
  /** The contact's view (its address opened when the forgetting keeps it). */
  view: ContactView,
  runId: string,
  now: Date,
): { outcome: BatchOutcome | LogOnlyOutcome; forgetting: ContactForgetting | null } {
  const decided = inactiveOutcome(outcome, latestValidUntil(view), now);
  if (decided !== 'anonymized' && decided !== 'erased') return { outcome: decided, forgetting: null };
  const forgetting = decideForgetting(view, decided === 'anonymized', { reason: 'inactivity', runId }, now);
  return { outcome: decided, forgetting };
}

/** The stream of one batch run: its start, each contact it skipped and why, its end with the counts. */
export const BATCH_STREAM_PREFIX = 'batch-';
export const batchStream = (runId: string) => `${BATCH_STREAM_PREFIX}${runId}`;

export type BatchRunEvent =
  | {
      type: 'InactiveBatchStarted';
      data: { runId: string; inactivityMonths: number; asOf: string; cutoff: string };
    }
  | { type: 'InactiveContactSkipped'; data: { contactId: string; reason: BatchOutcome | LogOnlyOutcome } }
  | { type: 'InactiveBatchCompleted'; data: { counts: Record<string, number> } };
