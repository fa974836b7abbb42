import type { DeliveryMessage, Subscriber, SubscriberKind } from '../domain/subscribers.js';

/** How one attempt went: delivered, or why not, in a few words that hold nothing a receiver wrote. */
export type Attempt = { ok: true } | { ok: false; error: string };

export interface SendOptions {
  /** The longest one attempt may take. */
  timeoutMs: number;
  /** The delivery stopped: an attempt in flight is cut. */
  signal: AbortSignal;
  now: () => Date;
}

/**
 * One kind of subscriber's way out (a webhook's POST, a NATS JetStream publish): the delivery loop
 * (delivery.ts) is the same for every kind, and asks its sender for one attempt at a time.
 */
export interface Sender<K extends SubscriberKind> {
  /** One attempt at a message, to the subscriber as now configured. */
  send(subscriber: Extract<Subscriber, { kind: K }>, message: DeliveryMessage, options: SendOptions): Promise<Attempt>;
  /** Lets go of what it holds open (a connection): the delivery stopped. */
  close(): Promise<void>;
}

export type Senders = { [K in SubscriberKind]: Sender<K> };

/** Where a subscriber's messages go: a message being retried is not given up on when it changes, it goes there. */
export const destination = (subscriber: Subscriber): string =>
  subscriber.kind === 'webhook' ? subscriber.url : subscriber.subject;
