import { API_KEYS_STREAM, type Role } from '../domain/api-keys.js';
import { decideConfirmErasure } from '../domain/erasure-confirmations.js';
import { UnknownEvent } from '../domain/errors.js';
import { contactIdOfStream } from '../domain/identifiers.js';
import { SUBSCRIBERS_STREAM } from '../domain/subscribers.js';
import type { StoredEvent } from '../store/event-store.js';
import { handleCommand, retryOnConflict } from './handle-command.js';
import type { LedgerContext } from './ledger-context.js';
import { subscribersOf } from './subscribers.js';

/** A subscriber's confirmation of a forgetting, as recorded (now, or by an earlier acknowledgement). */
export interface ErasureConfirmation {
  subscriber: string;
  eventId: string;
  requestId: string | null;
  /** The ErasureConfirmed event, and when it was recorded. */
  confirmedBy: { eventId: string; at: string };
  /** false: it was already confirmed, nothing appended. */
  changed: boolean;
}

/**
 * Records that a downstream system erased its copy after a forgetting: an ErasureConfirmed event in
 * the forgotten contact's stream, decided on that stream as read (an acknowledgement sent twice, or
 * two at once, records one). 404 for an unknown event or subscriber, 422 for an event that forgets
 * nothing or a subscriber the forgetting does not wait for (see decideConfirmErasure).
 */
export async function confirmErasure(
  context: LedgerContext,
  subscriber: string,
  named: string,
  by: { keyId: string; role: Role },
): Promise<ErasureConfirmation> {
  // The ledger's event ids are lowercase UUIDs: one written back in capitals or as a urn is the same.
  const eventId = named.toLowerCase().replace(/^urn:uuid:/, '');
  const event = await context.store.readEvent(eventId);
  if (!event) throw new UnknownEvent(eventId);
  // Who the forgetting waits for is who was configured before it in the log.
  const configuration = await context.store.readStream(SUBSCRIBERS_STREAM);
  const key =
    by.role === 'subscriber' ? await keyOfSubscriber(context, by.keyId, subscriber, configuration) : undefined;
  const subscribersThen = subscribersOf(configuration.filter((change) => change.position < event.position));
  const subscribersNow = subscribersOf(configuration);
  const isConfirmation = (stored: { type: string; data: Record<string, unknown> }) =>
    stored.type === 'ErasureConfirmed' &&
    stored.data['eventId'] === eventId &&
    stored.data['subscriber'] === subscriber;
  const requestId = typeof event.data['requestId'] === 'string' ? event.data['requestId'] : null;
  return retryOnConflict(async () => {
    const { result: earlier, appended } = await handleCommand(context, event.stream, {
      state: async (stored) => {
        const found = stored.find(isConfirmation);
        return {
          event,
          subscribersThen,
          subscribersNow,
          confirmed: new Set(found ? [subscriber] : []),
          earlier: found ? { eventId: found.id, at: found.occurredAt } : null,
          ...(key ? { key } : {}),
        };
      },
      decide: (state) => {
        const data = decideConfirmErasure(state, subscriber, by.keyId);
        if (!data) return { events: [], result: state.earlier };
        const contactId = contactIdOfStream(event.stream)!; // a forgetting is a contact's
        return {
          events: [{ type: 'ErasureConfirmed', contactId, organizationId: event.organizationId, data }],
          result: null,
        };
      },
    });
    const recorded = appended[0];
    const confirmedBy = recorded ? { eventId: recorded.id, at: recorded.occurredAt } : earlier!;
    return { subscriber, eventId, requestId, confirmedBy, changed: recorded !== undefined };
  });
}

/** Where a subscriber key was issued in the log, and where its subscriber's name was removed (decideConfirmErasure). */
async function keyOfSubscriber(
  context: LedgerContext,
  keyId: string,
  subscriber: string,
  configuration: readonly StoredEvent[],
): Promise<{ issuedAt: number; removedAt: number[] }> {
  const issued = (await context.store.readStream(API_KEYS_STREAM)).find(
    (event) => event.type === 'ApiKeyIssued' && event.data['keyId'] === keyId,
  )!; // the key was just authenticated from that stream
  const removedAt = configuration
    .filter((change) => change.type === 'SubscriberRemoved' && change.data['name'] === subscriber)
    .map((change) => change.position);
  return { issuedAt: issued.position, removedAt };
}
