import { connect, type JetStreamClient, type NatsConnection } from 'nats';
import type { DeliveryMessage, Subscriber } from '../domain/subscribers.js';
import type { Attempt, Sender, SendOptions } from './sender.js';

/** JetStream's API error codes (nats-server's errors.json): no stream of that name; subjects another stream takes. */
const STREAM_NOT_FOUND = 10059;
const SUBJECTS_OVERLAP = 10065;

const encoder = new TextEncoder();

const apiErrorCode = (error: unknown) => (error as { api_error?: { err_code?: number } }).api_error?.err_code;

/** A NATS error in a few words: its code (CONNECTION_REFUSED, TIMEOUT, 503 when no stream takes the subject). */
const natsError = (error: unknown): string => {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && code !== '' ? code : (error as Error).name;
};

/**
 * The NATS subscribers' sender: each message published with JetStream to the subscriber's subject,
 * the body the webhook's (the event's clear part, JSON), its `Nats-Msg-Id` the event id, so that
 * JetStream keeps one of a message sent twice (within the stream's duplicate window, 2 minutes by
 * default; past it a consumer de-duplicates by that id, as a webhook receiver does).
 *
 * The connection is opened at the first message (no NATS subscriber: never), opened again after it
 * closed or failed to open, and closed by `close`. Before its first message to a subject, the
 * stream `stream` is made to take it: created with it, or the subject added to its subjects (never
 * one removed: what a subscriber removed left there stays for its consumers). A subject another
 * stream already takes is left to it. A NATS down, a stream refused, a publish not acknowledged:
 * a failed attempt, retried by the delivery like a webhook down, never thrown.
 */
export class NatsSender implements Sender<'nats'> {
  private connection: Promise<NatsConnection> | null = null;
  private closed = false;
  /** The subjects made sure of since the start: a stream takes them. */
  private readonly covered = new Set<string>();
  private client: { nc: NatsConnection; js: JetStreamClient } | null = null;
  private nextTurn: Promise<void> | null = null;

  constructor(private readonly options: { url: string; stream: string }) {}

  async send(
    subscriber: Extract<Subscriber, { kind: 'nats' }>,
    message: DeliveryMessage,
    options: SendOptions,
  ): Promise<Attempt> {
    if (this.closed) return { ok: false, error: 'CLOSED' };
    try {
      // Open and its subject made sure of (every message but the first): the publish only, no other turn.
      const client = this.client;
      const nc = client && !client.nc.isClosed() ? client.nc : await this.connected(options.timeoutMs);
      if (!this.covered.has(subscriber.subject)) await this.ensureStream(nc, subscriber.subject, options.timeoutMs);
      const data = encoder.encode(JSON.stringify(message));
      await this.turn();
      await this.jetstream(nc).publish(subscriber.subject, data, { msgID: message.id, timeout: options.timeoutMs });
      return { ok: true };
    } catch (error) {
      this.covered.delete(subscriber.subject); // the stream may have been deleted: made sure of again
      return { ok: false, error: natsError(error) };
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const connection = this.connection;
    this.connection = null;
    this.client = null;
    const nc = await connection?.catch(() => null);
    await nc?.close().catch(() => undefined);
  }

  /**
   * Resolves at the end of this turn of the event loop, for every publish that asks during it: they
   * are then made one after the other, before nats.js writes its buffer (a microtask after the
   * first), so a socket write carries many, not one each (BENCHMARKS.md "Delivery").
   */
  private turn(): Promise<void> {
    this.nextTurn ??= new Promise((resolve) =>
      setImmediate(() => {
        this.nextTurn = null;
        resolve();
      }),
    );
    return this.nextTurn;
  }

  /** The connection's JetStream client, made once per connection (not per message: 128 are in flight). */
  private jetstream(nc: NatsConnection): JetStreamClient {
    if (this.client?.nc !== nc) this.client = { nc, js: nc.jetstream() };
    return this.client.js;
  }

  private async connected(timeoutMs: number): Promise<NatsConnection> {
    const open = this.connection ? await this.connection.catch(() => null) : null;
    if (open && !open.isClosed()) return open;
    const connection = connect({ servers: this.options.url, name: 'contact-ledger', timeout: timeoutMs });
    this.connection = connection;
    connection.catch(() => {
      if (this.connection === connection) this.connection = null;
    });
    const nc = await connection;
    if (this.closed) {
      await nc.close().catch(() => undefined);
      throw new Error('CLOSED');
    }
    return nc;
  }

  private async ensureStream(nc: NatsConnection, subject: string, timeoutMs: number): Promise<void> {
    if (this.covered.has(subject)) return;
    const jsm = await nc.jetstreamManager({ timeout: timeoutMs });
    const name = this.options.stream;
    const info = await jsm.streams.info(name).catch((error: unknown) => {
      if (apiErrorCode(error) === STREAM_NOT_FOUND) return null;
      throw error;
    });
    const subjects = info?.config.subjects ?? [];
    try {
      if (!info) await jsm.streams.add({ name, subjects: [subject] });
      else if (!subjects.includes(subject)) await jsm.streams.update(name, { subjects: [...subjects, subject] });
    } catch (error) {
      if (apiErrorCode(error) !== SUBJECTS_OVERLAP) throw error;
    }
    this.covered.add(subject);
  }
}
