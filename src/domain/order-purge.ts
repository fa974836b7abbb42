import { CULTURAL_CONTACT_TYPES, type EventData } from './catalog.js';
import { retainedPlace } from './places.js';

/**
 * The order-data purge (DESIGN.md "Forgetting"; reference: ticketing-gdpr-features-v2.en.txt):
 * an order whose every ticket ended validity before the cutoff has its order key destroyed (its
 * beneficiaries, answers and the buyer's IP), whether or not the buyer is forgotten.
 * `OrderDataPurged` keeps the beneficiary's country only. Per order, not per ticket: one key
 * seals an order's personal data, so an order is purged once all its tickets are old, and its
 * text answers go with the key (the reference keeps them: stricter here, never weaker).
 */
const ORDER_ACTIVITY: ReadonlySet<string> = new Set(CULTURAL_CONTACT_TYPES);

/** An event of the buyer's stream, its seal opened when it could be (beneficiary data). */
export interface OrderFact {
  type: string;
  data: Record<string, unknown>;
}

/** The latest end of validity of an order's activities, or null when none has one. */
export function orderValidUntil(events: readonly OrderFact[], orderId: string): string | null {
  let latest: string | null = null;
  for (const event of events) {
    if (!ORDER_ACTIVITY.has(event.type) || event.data['orderId'] !== orderId) continue;
    const validUntil = (event.data['product'] as { validUntil?: string } | undefined)?.validUntil ?? null;
    if (validUntil !== null && (latest === null || validUntil > latest)) latest = validUntil;
  }
  return latest;
}

/**
 * The purge of `orderId` decided on its buyer's stream, or null: not every validity ended before
 * the cutoff, or already purged. A forgotten buyer's old orders are purged all the same: their
 * keys were kept for the security retention only.
 */
export function decideOrderPurge(
  stream: readonly OrderFact[],
  orderId: string,
  cutoff: string,
  runId: string,
): { type: 'OrderDataPurged'; data: EventData<'OrderDataPurged'> } | null {
  const validUntil = orderValidUntil(stream, orderId);
  if (validUntil === null || validUntil >= cutoff) return null;
  if (stream.some((event) => event.type === 'OrderDataPurged' && event.data['orderId'] === orderId)) return null;
  let beneficiaryCountry: string | undefined;
  for (const event of stream) {
    if (!ORDER_ACTIVITY.has(event.type) || event.data['orderId'] !== orderId) continue;
    const beneficiary = event.data['beneficiary'] as { address?: { country?: unknown } } | undefined;
    // Checked again before the copy (places.ts): a country stored before the rule that fails it is dropped.
    beneficiaryCountry = retainedPlace(beneficiary?.address, ['country']).country ?? beneficiaryCountry;
  }
  return {
    type: 'OrderDataPurged',
    data: { orderId, runId, retained: beneficiaryCountry !== undefined ? { beneficiaryCountry } : {} },
  };
}
