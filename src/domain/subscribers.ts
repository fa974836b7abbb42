import { Type, type Static } from '@sinclair/typebox';
import { EVENT_TYPES, FORGETTING_TYPES, RESTRICTION_TYPES, type EventType } from './catalog.js';
import { RuleViolation, ValidationError, type InputIssue } from './errors.js';
import { contactIdOfStream } from './identifiers.js';
import { Line, OneOf } from './schema-kit.js';

/**
 * Downstream systems that hear the ledger's decisions (DESIGN.md "Downstream and operations";
 * issue 27): each subscriber is configured by events of the `subscribers` stream, as purposes and
 * schedules are, so every node delivers to the same subscribers, read from the log.
 */
export const SUBSCRIBERS_STREAM = 'subscribers';

/** The key scope a webhook's signing secret derives from (the key store's, as a contact's or an order's). */
export const subscriberScope = (name: string) => `subscriber:${name}`;

export const SUBSCRIBER_KINDS = ['webhook', 'nats'] as const;
export type SubscriberKind = (typeof SUBSCRIBER_KINDS)[number];

/**
 * What a subscriber hears when it names no types: what a downstream copy of a person must act on.
 * The forgettings (erase or anonymize the copy, purge the order's beneficiaries), the consent
 * changes (a mailing tool stops or starts writing), and the restrictions (GDPR art. 18: stop
 * processing until lifted). Not the activity: a downstream system that wants sales asks for them.
 */
export const DEFAULT_SUBSCRIBED_TYPES = [
  ...FORGETTING_TYPES,
  'ConsentGiven',
  'ConsentWithdrawn',
  'ConsentExpired',
  ...RESTRICTION_TYPES,
] as const satisfies readonly EventType[];

/** A NATS subject without wildcards: dot-separated tokens (a message goes to one subject). */
const NATS_SUBJECT = '^[A-Za-z0-9_-]+(\\.[A-Za-z0-9_-]+)*$';

/** The body of `PUT /v1/subscribers/:name`: one schema gives the type, the validator and the API component. */
export const SubscriberSettings = Type.Object(
  {
    kind: OneOf(SUBSCRIBER_KINDS, { description: 'webhook (url) or nats (subject)' }),
    url: Type.Optional(
      Line(2048, { description: 'webhook: https (http only for localhost or 127.0.0.1), no user or password' }),
    ),
    subject: Type.Optional(
      Type.String({ pattern: NATS_SUBJECT, maxLength: 255, description: 'nats: a subject without wildcards' }),
    ),
    eventTypes: Type.Optional(
      Type.Array(OneOf(EVENT_TYPES), {
        minItems: 1,
        uniqueItems: true,
        maxItems: EVENT_TYPES.length,
        description: `the types delivered; default: ${DEFAULT_SUBSCRIBED_TYPES.join(', ')}`,
      }),
    ),
    confirmsErasure: Type.Optional(
      Type.Boolean({ description: 'true: an erasure is complete only once this system has acknowledged it' }),
    ),
  },
  { additionalProperties: false },
);
export type SubscriberSettings = Static<typeof SubscriberSettings>;

interface SubscriberBase {
  name: string;
  eventTypes: EventType[];
  confirmsErasure: boolean;
}
/** What a `SubscriberConfigured` event holds: the subscriber's whole configuration from then on, defaults filled in. */
export type SubscriberConfiguration =
  (SubscriberBase & { kind: 'webhook'; url: string }) | (SubscriberBase & { kind: 'nats'; subject: string });

export type Subscriber = SubscriberConfiguration & {
  configuredAt: string;
  /**
   * The id of the event that made this subscriber what it is: created, or made a webhook. Its
   * delivery checkpoint and its webhook secret derive from it, so a subscriber removed and
   * configured again under the same name starts afresh, with a new secret.
   */
  since: string;
  /** A webhook's signing secret derives from this event's id: `since`, or its last secret rotation's. */
  secretSince: string;
  /** The secret before the last rotation, signed with too until `until` (ISO instant); null: none. */
  previousSecret: { since: string; until: string } | null;
};

export type SubscriberEvent =
  | { type: 'SubscriberConfigured'; id: string; occurredAt: string; data: SubscriberConfiguration }
  | { type: 'SubscriberRemoved'; id: string; occurredAt: string; data: { name: string } }
  | { type: 'SubscriberSecretRotated'; id: string; occurredAt: string; data: SecretRotation };

/** A webhook's new secret (derived from the event's id); the one before it signs too until `previousValidUntil`. */
export interface SecretRotation {
  name: string;
  previousValidUntil: string;
}

export const SUBSCRIBER_EVENT_TYPES: ReadonlySet<string> = new Set<SubscriberEvent['type']>([
  'SubscriberConfigured',
  'SubscriberRemoved',
  'SubscriberSecretRotated',
]);

export type SubscribersState = ReadonlyMap<string, Subscriber>;

export function evolveSubscribers(state: SubscribersState, event: SubscriberEvent): SubscribersState {
  const next = new Map(state);
  switch (event.type) {
    case 'SubscriberConfigured': {
      const previous = state.get(event.data.name);
      const same = previous !== undefined && previous.kind === event.data.kind;
      next.set(event.data.name, {
        ...event.data,
        configuredAt: event.occurredAt,
        since: same ? previous.since : event.id,
        secretSince: same ? previous.secretSince : event.id,
        previousSecret: same ? previous.previousSecret : null,
      });
      return next;
    }
    case 'SubscriberSecretRotated': {
      const subscriber = state.get(event.data.name);
      if (!subscriber) return state;
      const previousSecret = { since: subscriber.secretSince, until: event.data.previousValidUntil };
      next.set(event.data.name, { ...subscriber, secretSince: event.id, previousSecret });
      return next;
    }
    case 'SubscriberRemoved':
      next.delete(event.data.name);
      return next;
    default: {
      const _never: never = event;
      return _never;
    }
  }
}

export const foldSubscribers = (events: Iterable<SubscriberEvent>): SubscribersState => {
  let state: SubscribersState = new Map();
  for (const event of events) state = evolveSubscribers(state, event);
  return state;
};

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * Why a webhook url is refused, or null. https only, since the messages say who was forgotten
 * (ids, not people) and their signature must not be replayable by an eavesdropper; plain http only
 * on this machine (development, tests). No user or password: a credential in a url is stored in
 * the log and shown to every admin; a receiver authenticates the ledger by the signature instead.
 */
export function webhookUrlIssue(url: string): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'is not an absolute url';
  }
  if (parsed.username !== '' || parsed.password !== '') return 'holds a user or password (the signature authenticates)';
  if (parsed.hash !== '') return 'holds a fragment';
  if (parsed.protocol === 'https:') return null;
  if (parsed.protocol === 'http:' && LOOPBACK_HOSTS.has(parsed.hostname)) return null;
  return 'is not https (http only for localhost or 127.0.0.1)';
}

/**
 * A url as the ledger shows and logs it: its query (often a receiver's token) never goes further
 * than the configuration event and the request that delivers to it.
 */
export function displayedUrl(url: string): string {
  const parsed = new URL(url);
  return `${parsed.origin}${parsed.pathname}${parsed.search === '' ? '' : '?…'}`;
}

/**
 * Configures a subscriber; null when that configuration is already the one in force (a PUT
 * repeated appends nothing). A webhook names a url, a NATS subscriber a subject, never both.
 */
export function decideConfigureSubscriber(
  state: SubscribersState,
  name: string,
  settings: SubscriberSettings,
): SubscriberConfiguration | null {
  const issues: InputIssue[] = [];
  const needs = settings.kind === 'webhook' ? 'url' : 'subject';
  const refuses = settings.kind === 'webhook' ? 'subject' : 'url';
  if (settings[needs] === undefined)
    issues.push({ pointer: `/${needs}`, message: `is required for a ${settings.kind}` });
  if (settings[refuses] !== undefined) {
    issues.push({ pointer: `/${refuses}`, message: `is not taken by a ${settings.kind}` });
  }
  const urlIssue = settings.kind === 'webhook' && settings.url !== undefined ? webhookUrlIssue(settings.url) : null;
  if (urlIssue) issues.push({ pointer: '/url', message: urlIssue });
  if (issues.length > 0) throw new ValidationError(`the ${settings.kind} subscriber is not valid`, issues);
  const base: SubscriberBase = {
    name,
    eventTypes: [...(settings.eventTypes ?? DEFAULT_SUBSCRIBED_TYPES)].sort(),
    confirmsErasure: settings.confirmsErasure ?? false,
  };
  const configuration: SubscriberConfiguration =
    settings.kind === 'webhook'
      ? { ...base, kind: 'webhook', url: new URL(settings.url!).href }
      : { ...base, kind: 'nats', subject: settings.subject! };
  const current = state.get(name);
  if (current) {
    const { configuredAt: _at, since: _since, secretSince: _secret, previousSecret: _previous, ...inForce } = current;
    if (canonical(inForce) === canonical(configuration)) return null;
  }
  return configuration;
}

const canonical = (value: object) =>
  JSON.stringify(Object.fromEntries(Object.entries(value).sort(([a], [b]) => a.localeCompare(b))));

/** Removes a subscriber; null when there is none of that name (the caller answers 404). */
export function decideRemoveSubscriber(state: SubscribersState, name: string): { name: string } | null {
  return state.has(name) ? { name } : null;
}

/** How long a rotated webhook secret is signed with beside the new one, by default: a day to deploy the new one. */
export const DEFAULT_SECRET_OVERLAP_HOURS = 24;
/** The longest that can be asked: a week. */
export const MAX_SECRET_OVERLAP_HOURS = 7 * 24;

/**
 * Rotates a webhook's signing secret: its messages are signed with the new one, and with the one
 * before until `overlapHours` from `now` (0: at once no longer), so its receiver can move to the new
 * one meanwhile. A secret rotated before (one still in its overlap) is dropped: two at most.
 * Null for an unknown name (404); a NATS subscriber has no secret (422).
 */
export function decideRotateSecret(
  state: SubscribersState,
  name: string,
  now: Date,
  overlapHours: number,
): SecretRotation | null {
  const subscriber = state.get(name);
  if (!subscriber) return null;
  if (subscriber.kind !== 'webhook') {
    throw new RuleViolation(
      `the subscriber ${name} is not a webhook: it has no signing secret`,
      'rotate the secret of a webhook subscriber',
    );
  }
  return { name, previousValidUntil: new Date(now.getTime() + overlapHours * 3_600_000).toISOString() };
}

/** The secrets a webhook's messages are signed with at `now`, by the events they derive from: the new one first. */
export function signingSecretSeeds(subscriber: Pick<Subscriber, 'secretSince' | 'previousSecret'>, now: Date) {
  const { secretSince, previousSecret } = subscriber;
  return previousSecret && now.getTime() < Date.parse(previousSecret.until)
    ? [secretSince, previousSecret.since]
    : [secretSince];
}

/** A subscriber as the API shows it: its configuration, its url without its query. */
export const subscriberView = (subscriber: Subscriber) => {
  const { since: _since, secretSince: _secret, previousSecret: _previous, ...shown } = subscriber;
  return shown.kind === 'webhook' ? { ...shown, url: displayedUrl(shown.url) } : shown;
};

/**
 * What a subscriber is sent of an event: its clear part only (ids, type, dates, position, the
 * clear fields of `data`: purposes, reasons, retained places), never a sealed field, which stays
 * behind: a downstream system that needs the person's details asks the API with its own key.
 */
export interface DeliveryMessage {
  id: string;
  type: string;
  contactId: string;
  organizationId: string;
  occurredAt: string;
  position: number;
  data: Record<string, unknown>;
}

/** The message of a stored event for a subscriber, or null when it hears nothing of it (another type, no contact). */
export function deliveryMessage(
  subscriber: { eventTypes: readonly string[] },
  event: Omit<DeliveryMessage, 'contactId'> & { stream: string },
): DeliveryMessage | null {
  const contactId = contactIdOfStream(event.stream);
  if (contactId === null || !subscriber.eventTypes.includes(event.type)) return null;
  const { id, type, organizationId, occurredAt, position, data } = event;
  return { id, type, contactId, organizationId, occurredAt, position, data };
}
