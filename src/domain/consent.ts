import type { EventType } from './catalog.js';

/**
 * Consent state per purpose of one contact (DESIGN.md "Consent"): given is "yes", withdrawn is
 * "no", an expiry brings a "yes" back to "unknown", forgetting withdraws them all. Purpose
 * configuration, legal bases and expiry by prolonging activity build on this fold.
 */
export type ConsentStatus = 'yes' | 'no' | 'unknown';
export type ConsentState = Record<string, { status: ConsentStatus; changedAt: string }>;

export function evolveConsents(
  state: ConsentState,
  event: { type: EventType; occurredAt: string; data: Record<string, unknown> },
): ConsentState {
  if (event.type === 'ContactAnonymized' || event.type === 'ContactErased') {
    // Forgetting withdraws every consent: a forgotten person is never selectable again.
    return Object.fromEntries(
      Object.keys(state).map((known) => [known, { status: 'no' as const, changedAt: event.occurredAt }]),
    );
  }
  const purpose = event.data['purpose'];
  if (typeof purpose !== 'string') return state;
  switch (event.type) {
    case 'ConsentGiven':
      return { ...state, [purpose]: { status: 'yes', changedAt: event.occurredAt } };
    case 'ConsentWithdrawn':
      return { ...state, [purpose]: { status: 'no', changedAt: event.occurredAt } };
    case 'ConsentExpired':
      return state[purpose]?.status === 'yes'
        ? { ...state, [purpose]: { status: 'unknown', changedAt: event.occurredAt } }
        : state;
    default:
      return state;
  }
}

/** At least one purpose is "yes": what makes a consent change count for recency. */
export const anyConsentYes = (state: ConsentState) => Object.values(state).some((consent) => consent.status === 'yes');
