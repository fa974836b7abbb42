import { FORGETTING_TYPES, type EventData } from './catalog.js';
import { Forbidden, RuleViolation, UnknownSubscriber } from './errors.js';
import type { SubscribersState } from './subscribers.js';

/**
 * Acknowledged erasure (issue 27, DESIGN.md "Downstream and operations"): a downstream system
 * that copied a person's data says, with its own key, that it erased its copy after a forgetting;
 * the ledger records it as an `ErasureConfirmed` event in the forgotten contact's stream, and an
 * erasure request is complete only once every system it waits for has confirmed.
 */
export type ErasureConfirmedData = EventData<'ErasureConfirmed'>;

const FORGETTINGS: ReadonlySet<string> = new Set(FORGETTING_TYPES);

/**
 * The subscribers a forgetting of `type` waits for, by name: those configured when it was
 * appended with `confirmsErasure` that hear that type. Fixed at the forgetting: a system
 * configured later never held the person's data from the ledger (the log it replays shows the
 * fields erased), and a system removed later still held it then, so its word is still awaited.
 */
export const confirmersOf = (subscribers: SubscribersState, type: string): string[] =>
  [...subscribers.values()]
    .filter((subscriber) => subscriber.confirmsErasure && (subscriber.eventTypes as readonly string[]).includes(type))
    .map((subscriber) => subscriber.name)
    .sort();

/** Whether a key issued at `issuedAt` was issued to the subscriber of that name at `position`: no removal between. */
const sameSubscriber = (
  { issuedAt, removedAt }: { issuedAt: number; removedAt: readonly number[] },
  position: number,
) => removedAt.every((removal) => removal < Math.min(issuedAt, position) || removal > Math.max(issuedAt, position));

/** What an acknowledgement is decided on, read by the use case. */
export interface ConfirmationState {
  /** The forgetting named by the acknowledgement (the caller answers 404 when there is no such event). */
  event: { id: string; type: string; position: number; data: Record<string, unknown> };
  /** The subscribers as configured when that event was appended, and as configured now. */
  subscribersThen: SubscribersState;
  subscribersNow: SubscribersState;
  /** The subscribers that already confirmed that event (ErasureConfirmed of its contact's stream). */
  confirmed: ReadonlySet<string>;
  /**
   * A subscriber key's acknowledgement (absent: an admin's): where in the log the key was issued,
   * and where that subscriber's name was removed. A name removed and configured again is another
   * system (a new secret, delivered afresh), so a key speaks only for the one it was issued to.
   */
  key?: { issuedAt: number; removedAt: readonly number[] };
}

/**
 * A subscriber's acknowledgement of a forgetting, by the key `keyId` (its own, or an admin's: the
 * log says which): the event to record, or null when that
 * subscriber already confirmed it (a retry appends nothing). Refused: a subscriber configured
 * neither now nor then (404); an event that forgets nothing (422); a subscriber the forgetting
 * does not wait for (422: not confirmsErasure, not hearing that type, or configured after it).
 */
export function decideConfirmErasure(
  state: ConfirmationState,
  subscriber: string,
  keyId: string,
): ErasureConfirmedData | null {
  const { event, subscribersThen, subscribersNow, confirmed } = state;
  if (!subscribersNow.has(subscriber) && !subscribersThen.has(subscriber)) throw new UnknownSubscriber(subscriber);
  if (!FORGETTINGS.has(event.type)) {
    throw new RuleViolation(
      `event ${event.id} is a ${event.type}, not a forgetting`,
      `acknowledge a forgetting (${FORGETTING_TYPES.join(', ')}) delivered to this subscriber`,
      { eventId: event.id, eventType: event.type },
    );
  }
  if (!confirmersOf(subscribersThen, event.type).includes(subscriber)) {
    throw new RuleViolation(
      `forgetting ${event.id} does not wait for subscriber ${subscriber}`,
      'only a subscriber configured with confirmsErasure and hearing that type when the forgetting was ' +
        'appended acknowledges it',
      { eventId: event.id, subscriber },
    );
  }
  if (state.key && !sameSubscriber(state.key, event.position)) {
    throw new Forbidden(
      'subscriber',
      `subscriber ${subscriber}`,
      `this key was issued to an earlier or a later subscriber ${subscriber} than the one forgetting ${event.id} ` +
        'waits for (the name was removed in between)',
    );
  }
  if (confirmed.has(subscriber)) return null;
  const requestId = event.data['requestId'];
  return { subscriber, eventId: event.id, ...(typeof requestId === 'string' ? { requestId } : {}), keyId };
}
