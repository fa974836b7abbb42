import { RuleViolation } from './errors.js';

/**
 * A job that forgets or expires judges a day that has come: an as-of in the future would forget
 * or expire people who are still active today (irreversible), so it is refused (422) by the
 * inactive-contact batch and the consent-expiry job alike.
 */
export function requirePastAsOf(asOf: Date, now: Date, job: 'the inactive-contact batch' | 'consent expiry'): void {
  if (asOf.getTime() <= now.getTime()) return;
  throw new RuleViolation(`as-of is in the future: ${job} judges a day that has come`, 'give a past as-of, or none');
}
