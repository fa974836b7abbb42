import type { EventType } from './catalog.js';
import {
  NEW_ORDER_TYPES,
  ORDER_LEGAL_BASIS,
  type Purpose,
  type PurposesState,
  type PurposeTimeline,
} from './purposes.js';
import type { OperatorRuleFailure } from './schema-kit.js';

/**
 * Consent state per purpose of one contact (DESIGN.md "Consent"; reference: consent-expiry.fr.txt):
 * given is "yes", withdrawn is "no", an expiry brings a "yes" back to "unknown", forgetting
 * withdraws them all. Each event is judged by the purposes' configuration in force before it.
 */
export type ConsentStatus = 'yes' | 'no' | 'unknown';
export interface ConsentEntry {
  status: ConsentStatus;
  /** When the status last changed. */
  changedAt: string;
  /** The "yes" given, or the latest activity of the contact that prolongs it: where expiry counts from. */
  lastActivityAt: string;
}
export type ConsentState = Record<string, ConsentEntry>;

export interface ConsentInput {
  type: EventType;
  occurredAt: string;
  data: Record<string, unknown>;
}

const later = (a: string, b: string) => (a > b ? a : b);

export function evolveConsents(state: ConsentState, event: ConsentInput, purposes: PurposesState): ConsentState {
  const at = event.occurredAt;
  if (event.type === 'ContactAnonymized' || event.type === 'ContactErased') {
    // Forgetting withdraws every consent: a forgotten person is never selectable again.
    return Object.fromEntries(
      Object.entries(state).map(([known, entry]) => [
        known,
        entry.status === 'no' ? entry : { ...entry, status: 'no' as const, changedAt: at },
      ]),
    );
  }
  const purpose = event.data['purpose'];
  const current = typeof purpose === 'string' ? state[purpose] : undefined;
  const set = (code: string, status: ConsentStatus): ConsentState => ({
    ...state,
    [code]: { status, changedAt: at, lastActivityAt: at },
  });
  switch (event.type) {
    case 'ConsentGiven': {
      if (typeof purpose !== 'string') return state;
      if (current?.status === 'yes') {
        // The same "yes" again: stored, but no change. The person renewing it (not an import
        // re-sending it) is activity that prolongs it.
        return event.data['source'] === 'import'
          ? state
          : { ...state, [purpose]: { ...current, lastActivityAt: later(current.lastActivityAt, at) } };
      }
      return prolong(set(purpose, 'yes'), event, purposes);
    }
    case 'ConsentWithdrawn':
      return typeof purpose !== 'string' || current?.status === 'no' ? state : set(purpose, 'no');
    case 'ConsentExpired': {
      const judged = event.data['lastActivityAt'];
      const superseded = typeof judged === 'string' && current !== undefined && current.lastActivityAt > judged;
      return typeof purpose === 'string' && current?.status === 'yes' && !superseded
        ? { ...state, [purpose]: { ...current, status: 'unknown', changedAt: at } }
        : state;
    }
    default: {
      const orderBasis = purposes.get(ORDER_LEGAL_BASIS);
      const orderBasisBack =
        NEW_ORDER_TYPES.includes(event.type) &&
        orderBasis?.kind === 'legalBasis' &&
        state[ORDER_LEGAL_BASIS]?.status !== 'yes' &&
        // An objection stands: only an expired (or never recorded) order basis comes back.
        state[ORDER_LEGAL_BASIS]?.status !== 'no';
      return prolong(orderBasisBack ? set(ORDER_LEGAL_BASIS, 'yes') : state, event, purposes);
    }
  }
}

/** A contact's consents folded from its events, each judged by the configuration before it. */
export function foldConsents(events: Iterable<ConsentInput & { position: number }>, purposes: PurposeTimeline) {
  let state: ConsentState = {};
  for (const event of events) state = evolveConsents(state, event, purposes.at(event.position));
  return state;
}

/**
 * Moves the last activity of every "yes" whose purpose is prolonged by this event's type (one just
 * given by this event already counts from it).
 */
function prolong(state: ConsentState, event: ConsentInput, purposes: PurposesState): ConsentState {
  let next = state;
  for (const code in state) {
    const entry = state[code]!;
    if (entry.status !== 'yes' || entry.lastActivityAt >= event.occurredAt) continue;
    if (!(purposes.get(code)?.prolongedBy as readonly string[] | undefined)?.includes(event.type)) continue;
    if (next === state) next = { ...state };
    next[code] = { ...entry, lastActivityAt: event.occurredAt };
  }
  return next;
}

/** Whether a consent event changed the status of its purpose: only a change is a contact action for recency. */
export function consentChanged(before: ConsentState | undefined, after: ConsentState, event: ConsentInput): boolean {
  const purpose = event.data['purpose'];
  return typeof purpose === 'string' && before?.[purpose]?.status !== after[purpose]?.status;
}

/** The answers of a contact with no "yes" and no "no" (see consentAnswers). */
export const NO_ANSWERS = ',';

/**
 * A contact's "yes" and "no" as one short text, `,newsletter=y,sms=n,` (codes in order; "unknown"
 * left out): what targeting reads with the contact's flags in one row, instead of joining every
 * consent. Codes are slugs, so the commas and equals signs are unambiguous.
 */
export function consentAnswers(state: ConsentState): string {
  const answered = Object.entries(state)
    .filter(([, entry]) => entry.status !== 'unknown')
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([code, entry]) => `${code}=${entry.status === 'yes' ? 'y' : 'n'}`);
  return answered.length === 0 ? NO_ANSWERS : `,${answered.join(',')},`;
}

/**
 * At least one authorization of the person is "yes": a purpose that is not a legal basis (a legal
 * basis, such as "order", is the institution's ground, not the person's authorization).
 */
export const anyConsentYes = (state: ConsentState, purposes: PurposesState) =>
  Object.entries(state).some(
    ([code, consent]) => consent.status === 'yes' && purposes.get(code)?.kind !== 'legalBasis',
  );

const DAY_MS = 86_400_000;

/**
 * When a "yes" expires: its last activity (or the moment expiry was enabled, if later) plus the
 * purpose's expiry; null when it does not expire (not a "yes", or expiry disabled now: the
 * reference expires only purposes whose expiry is still enabled when the job runs).
 */
export function expiryOf(entry: ConsentEntry, purpose: Purpose | undefined): string | null {
  if (entry.status !== 'yes' || !purpose || purpose.expiryDays === null || purpose.expirySince === null) return null;
  const from = later(entry.lastActivityAt, purpose.expirySince);
  return new Date(Date.parse(from) + purpose.expiryDays * DAY_MS).toISOString();
}

/** The purposes whose "yes" has expired at `asOf` (expiry strictly before it). */
export function expiredPurposes(state: ConsentState, purposes: PurposesState, asOf: string): string[] {
  return Object.entries(state)
    .filter(([code, entry]) => {
      const expiry = expiryOf(entry, purposes.get(code));
      return expiry !== null && expiry < asOf;
    })
    .map(([code]) => code);
}

/**
 * The last activity before which a purpose's "yes" has expired at `asOf`, or null when none can
 * have (expiry disabled, or enabled too recently: a "yes" counts from the enabling at the earliest).
 */
export function expiryCutoff(purpose: Purpose, asOf: string): string | null {
  if (purpose.expiryDays === null || purpose.expirySince === null) return null;
  const cutoff = new Date(Date.parse(asOf) - purpose.expiryDays * DAY_MS).toISOString();
  return purpose.expirySince < cutoff ? cutoff : null;
}

/** The expiry of one "yes" whose last activity is before the purpose's cutoff: what it counted from, and the days. */
export const expiryOfYes = (purpose: Purpose, lastActivityAt: string) => ({
  purpose: purpose.code,
  lastActivityAt: later(lastActivityAt, purpose.expirySince ?? lastActivityAt),
  expiryDays: purpose.expiryDays!,
});

/** A person's answer on one purpose through their consent link, with the version of the wording they were shown. */
export interface LinkAnswer {
  purpose: string;
  answer: 'yes' | 'no';
  wordingVersion: string;
}

/**
 * Whether an answer through a consent link would change nothing the contact's stream holds, so
 * that it appends nothing (a replayed link, a double click): a "no" where the purpose is already
 * "no"; a "yes" where it is already "yes", last given with the same wording, and that would not
 * move its expiry to a later day. A renewal of an expiring "yes" still prolongs it (evolveConsents),
 * once a day: expiry counts in days. `at`: when the answer is given.
 */
export function linkAnswerChangesNothing(
  events: readonly (ConsentInput & { position: number })[],
  purposes: PurposeTimeline,
  answer: LinkAnswer,
  at: string,
): boolean {
  const current = foldConsents(events, purposes)[answer.purpose];
  if (answer.answer === 'no') return current?.status === 'no';
  const lastGiven = events.findLast(
    (event) => event.type === 'ConsentGiven' && event.data['purpose'] === answer.purpose,
  );
  if (current?.status !== 'yes' || lastGiven?.data['wordingVersion'] !== answer.wordingVersion) return false;
  const purpose = purposes.current.get(answer.purpose);
  const expiry = expiryOf(current, purpose);
  const renewed = expiryOf({ ...current, lastActivityAt: later(current.lastActivityAt, at) }, purpose);
  return expiry === null || renewed!.slice(0, 10) <= expiry.slice(0, 10);
}

/**
 * Sources through which the person answers alone (a form, the portal, an import of such answers),
 * as a refusal names them: the operator must know which system tried, to fix that one.
 */
const SELF_SERVICE_SOURCES: Readonly<Record<string, string>> = {
  form: 'a form',
  portal: 'the portal',
  import: 'an import',
};

/**
 * The rules a consent event must meet before it is appended: its purpose is configured, and a
 * refused legal basis is not given again by a form, the portal or an import (reference: "une fois
 * qu'une base légale est refusée, elle ne peut plus être acceptée"); an operator recording the
 * person's request may.
 */
export function consentRuleFailure(
  state: ConsentState,
  purposes: PurposesState,
  event: ConsentInput,
): OperatorRuleFailure | null {
  const { purpose, source } = event.data;
  if (typeof purpose !== 'string') return null;
  const configured = purposes.get(purpose);
  if (!configured) {
    return {
      pointer: '/data/purpose',
      message: `purpose ${purpose} is not configured`,
      action: 'configure the purpose first (PUT /v1/purposes/:code), or send a configured purpose',
    };
  }
  const selfService =
    typeof source === 'string' && Object.hasOwn(SELF_SERVICE_SOURCES, source) ? SELF_SERVICE_SOURCES[source] : null;
  if (
    event.type === 'ConsentGiven' &&
    configured.kind === 'legalBasis' &&
    state[purpose]?.status === 'no' &&
    selfService
  ) {
    return {
      pointer: '/data/source',
      message: `legal basis ${purpose} was refused by the person; ${selfService} cannot give it again`,
      action: 'keep the refusal; only an operator recording the person asking for it may give it again',
    };
  }
  return null;
}
