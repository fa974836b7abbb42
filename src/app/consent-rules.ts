import { consentRuleFailure, evolveConsents, foldConsents, type ConsentState } from '../domain/consent.js';
import { unmetDutiesError, type UnmetDuty, type ValidEvent } from '../domain/envelope.js';
import { contactStream } from '../domain/identifiers.js';
import type { LedgerContext } from './ledger-context.js';
import { loggedFacts } from './logged-facts.js';
import { readPurposeTimeline } from './purposes.js';

const CONSENT_EVENT_TYPES: readonly string[] = ['ConsentGiven', 'ConsentWithdrawn'];

/**
 * The consent rules of a published batch (see consentRuleFailure): every purpose configured, and
 * no refused legal basis given again by a form. Only the contacts giving a legal basis have their
 * stream read; the batch's own events count in order (a withdrawal then a form's "yes" in one body
 * is refused too). A 422 names each event; nothing is appended.
 */
export async function checkConsentRules(
  context: Pick<LedgerContext, 'store'>,
  events: readonly ValidEvent[],
): Promise<void> {
  if (!events.some((event) => CONSENT_EVENT_TYPES.includes(event.type))) return;
  const timeline = await readPurposeTimeline(context.store);
  const purposes = timeline.current;
  const givingLegalBasis = new Set(
    events
      .filter((event) => event.type === 'ConsentGiven')
      .filter((event) => purposes.get(String(event.data['purpose']))?.kind === 'legalBasis')
      .map((event) => event.contactId),
  );
  const states = new Map<string, ConsentState>();
  await Promise.all(
    [...givingLegalBasis].map(async (contactId) => {
      const stored = await context.store.readStream(contactStream(contactId));
      states.set(contactId, foldConsents(loggedFacts(stored), timeline));
    }),
  );
  const duties: UnmetDuty[] = [];
  events.forEach((event, index) => {
    const state = states.get(event.contactId) ?? {};
    const failure = CONSENT_EVENT_TYPES.includes(event.type) ? consentRuleFailure(state, purposes, event) : null;
    if (failure) duties.push({ index, ...failure });
    if (states.has(event.contactId)) states.set(event.contactId, evolveConsents(state, event, purposes));
  });
  if (duties.length > 0) throw unmetDutiesError(duties);
}
