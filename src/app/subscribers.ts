import { UnknownSubscriber } from '../domain/errors.js';
import {
  DEFAULT_SECRET_OVERLAP_HOURS,
  decideConfigureSubscriber,
  decideRemoveSubscriber,
  decideRotateSecret,
  foldSubscribers,
  SUBSCRIBER_EVENT_TYPES,
  SUBSCRIBERS_STREAM,
  subscriberScope,
  subscriberView,
  type Subscriber,
  type SubscriberEvent,
  type SubscribersState,
  type SubscriberSettings,
} from '../domain/subscribers.js';
import { webhookSecretFrom } from '../crypto/webhook-signature.js';
import type { DeliveryCheckpoints } from '../projections/read-model-store.js';
import type { EventStore, StoredEvent } from '../store/event-store.js';
import { handleCommand } from './handle-command.js';
import type { LedgerContext } from './ledger-context.js';

/** The subscribers stream's events as the rules read them (only the ledger writes that stream). */
const subscriberEventsOf = (stored: readonly StoredEvent[]): SubscriberEvent[] =>
  stored
    .filter((event) => SUBSCRIBER_EVENT_TYPES.has(event.type))
    .map(({ type, id, occurredAt, data }) => ({ type, id, occurredAt, data }) as SubscriberEvent);

/** The subscribers as the events of the subscribers stream given say (all of it: now; a prefix: then). */
export const subscribersOf = (stored: readonly StoredEvent[]): SubscribersState =>
  foldSubscribers(subscriberEventsOf(stored));

/** The subscribers as the log says now (no cache: a change on any node counts at once). */
export const readSubscribers = async (store: EventStore): Promise<SubscribersState> =>
  subscribersOf(await store.readStream(SUBSCRIBERS_STREAM));

/**
 * A webhook subscriber's signing secret, derived from its scope's key (see webhookSecretFrom) and
 * the event it dates from (`secretSince` for the one in force, the default; a previous one's).
 */
export async function webhookSecret(
  context: Pick<LedgerContext, 'keys'>,
  subscriber: Pick<Subscriber, 'name' | 'secretSince'>,
  seed = subscriber.secretSince,
): Promise<string> {
  const scope = subscriberScope(subscriber.name);
  const key = (await context.keys.keysFor([scope])).get(scope)!;
  return webhookSecretFrom(key.key, seed);
}

export type SubscriberView = ReturnType<typeof subscriberView>;

/**
 * Configures a subscriber (a configuration event; the same configuration again appends nothing).
 * The event that creates a webhook subscriber, or makes one a webhook, gives it a new signing
 * secret: answered here, once (`secret`), and never again, nor logged.
 */
export async function configureSubscriber(
  context: LedgerContext,
  name: string,
  settings: SubscriberSettings,
): Promise<{ subscriber: SubscriberView; changed: boolean; created: boolean; secret?: string }> {
  const { result, appended } = await handleCommand(context, SUBSCRIBERS_STREAM, {
    state: async (stored) => foldSubscribers(subscriberEventsOf(stored)),
    decide: (state) => {
      const data = decideConfigureSubscriber(state, name, settings);
      return {
        events: data
          ? [{ type: 'SubscriberConfigured', stream: SUBSCRIBERS_STREAM, organizationId: '', data: { ...data } }]
          : [],
        result: !state.has(name),
      };
    },
  });
  const subscriber = (await readSubscribers(context.store)).get(name)!;
  const newSecret = subscriber.kind === 'webhook' && appended.some((event) => event.id === subscriber.since);
  return {
    subscriber: subscriberView(subscriber),
    changed: appended.length > 0,
    created: result,
    ...(newSecret ? { secret: await webhookSecret(context, subscriber) } : {}),
  };
}

/**
 * Rotates a webhook's signing secret (a SubscriberSecretRotated event, so every node signs alike):
 * the new secret, answered here once, signs its messages from now on, the one before it too until
 * `previousValidUntil` (see decideRotateSecret).
 */
export async function rotateSubscriberSecret(
  context: LedgerContext,
  name: string,
  overlapHours = DEFAULT_SECRET_OVERLAP_HOURS,
): Promise<{ name: string; secret: string; previousValidUntil: string }> {
  const { appended } = await handleCommand(context, SUBSCRIBERS_STREAM, {
    state: async (stored) => foldSubscribers(subscriberEventsOf(stored)),
    decide: (state) => {
      const data = decideRotateSecret(state, name, context.now(), overlapHours);
      if (!data) throw new UnknownSubscriber(name);
      return {
        events: [
          { type: 'SubscriberSecretRotated', stream: SUBSCRIBERS_STREAM, organizationId: '', data: { ...data } },
        ],
        result: null,
      };
    },
  });
  const rotation = appended[0]!;
  const previousValidUntil = (rotation.data as { previousValidUntil: string }).previousValidUntil;
  return { name, secret: await webhookSecret(context, { name, secretSince: rotation.id }), previousValidUntil };
}

/** Stops a subscriber: a SubscriberRemoved event; its deliveries and dead letters stay where they are kept. */
export async function removeSubscriber(context: LedgerContext, name: string): Promise<void> {
  await handleCommand(context, SUBSCRIBERS_STREAM, {
    state: async (stored) => foldSubscribers(subscriberEventsOf(stored)),
    decide: (state) => {
      const data = decideRemoveSubscriber(state, name);
      if (!data) throw new UnknownSubscriber(name);
      return {
        events: [{ type: 'SubscriberRemoved', stream: SUBSCRIBERS_STREAM, organizationId: '', data }],
        result: null,
      };
    },
  });
}

/**
 * Every subscriber, by name, with its delivery: the position delivered up to, the lag behind the
 * log's head (events of every type, delivered or not), the count of dead letters, and how it goes
 * (DeliveryHealth: the last message delivered, the last failure, failing since when).
 */
export async function listSubscribers(context: { store: EventStore; readModels: { delivery: DeliveryCheckpoints } }) {
  const state = await readSubscribers(context.store);
  const head = await context.store.headPosition();
  const subscribers = [...state.values()].sort((a, b) => a.name.localeCompare(b.name));
  return Promise.all(
    subscribers.map(async (subscriber) => {
      const position = await context.readModels.delivery.deliveryCheckpoint(subscriber.since);
      const deadLetters = (await context.readModels.delivery.deadLetters(subscriber.since)).length;
      const health = await context.readModels.delivery.deliveryHealth(subscriber.since);
      const lag = Math.max(0, head - position);
      return { ...subscriberView(subscriber), delivery: { position, lag, deadLetters, ...health } };
    }),
  );
}

/** The subscriber of that name, as now configured, or UnknownSubscriber (404). */
async function subscriberNamed(store: EventStore, name: string): Promise<Subscriber> {
  const subscriber = (await readSubscribers(store)).get(name);
  if (!subscriber) throw new UnknownSubscriber(name);
  return subscriber;
}

type DeliveryReader = { store: EventStore; readModels: { delivery: DeliveryCheckpoints } };

/** A subscriber's dead letters, in log order: ids, positions, attempts and reasons (nothing personal). */
export async function listDeadLetters(context: DeliveryReader, name: string) {
  const { since } = await subscriberNamed(context.store, name);
  return (await context.readModels.delivery.deadLetters(since)).map(
    ({ subscriberId: _id, name: _name, ...letter }) => letter,
  );
}

/**
 * Asks the delivery to send a subscriber's dead letters again (at its next pass, before what
 * follows its checkpoint); how many. Each is removed once delivered, or recorded failed again.
 */
export async function replayDeadLetters(context: DeliveryReader, name: string): Promise<number> {
  const { since } = await subscriberNamed(context.store, name);
  await context.readModels.delivery.replayDeadLetters(since);
  return (await context.readModels.delivery.deadLetters(since)).filter((letter) => letter.replay).length;
}

/**
 * A log restored from an older copy beside delivery checkpoints kept further (state.db, or the
 * schema, not restored with it): a subscriber's checkpoint beyond the log's head would skip what is
 * appended after the restore at the positions it had passed. Brought back to the head when the
 * ledger opens, before anything is appended (what the restored log holds up to it was delivered).
 * Never a loss: at worst a message sent again. The names of the subscribers brought back.
 */
export async function rewindDeliveryToLog(context: DeliveryReader): Promise<string[]> {
  const head = await context.store.headPosition();
  const rewound: string[] = [];
  for (const subscriber of (await readSubscribers(context.store)).values()) {
    if ((await context.readModels.delivery.deliveryCheckpoint(subscriber.since)) <= head) continue;
    await context.readModels.delivery.advanceDelivery(subscriber.since, subscriber.name, head, []);
    rewound.push(subscriber.name);
  }
  return rewound;
}
