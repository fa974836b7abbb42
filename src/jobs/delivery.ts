import { setTimeout as sleep } from 'node:timers/promises';
import { readSubscribers } from '../app/subscribers.js';
import type { LedgerContext } from '../app/ledger-context.js';
import { deliveryMessage, type DeliveryMessage, type Subscriber } from '../domain/subscribers.js';
import type { DeadLetter, DeliveryHealth } from '../projections/delivery-tables.js';
import type { DeliveryCheckpoints } from '../projections/read-model-store.js';
import { pagesAfter } from '../store/pages.js';
import type { Subscription } from 'rxjs';
import { DEFAULT_NATS_STREAM, DEFAULT_NATS_URL } from '../config.js';
import { NatsSender } from './nats-sender.js';
import { destination, type Attempt, type Senders } from './sender.js';
import { WebhookSender } from './webhook-sender.js';
import { InOrderWindow } from './in-order-window.js';

/**
 * Attempts of one message before it becomes a dead letter, by default (LEDGER_DELIVERY_ATTEMPTS):
 * with the default waits (0.5 s doubling to 60 s, jitter over their upper half) they span 11.5 to
 * 23 minutes, so a receiver down for ten minutes gets every message when it is back, in order,
 * without an admin's replay.
 */
export const DEFAULT_DELIVERY_ATTEMPTS = 30;
export const DEFAULT_BACKOFF_MS = 500;
export const DEFAULT_MAX_BACKOFF_MS = 60_000;
/** Messages of one webhook subscriber sent at once, by default (LEDGER_DELIVERY_IN_FLIGHT; issue 27: "8 in flight"). */
export const DEFAULT_DELIVERY_IN_FLIGHT = 8;
/**
 * Messages of one NATS subscriber published at once, by default (LEDGER_NATS_IN_FLIGHT): JetStream
 * acknowledgements awaited together, as many as keep the connection busy (a publish and its ack
 * take a round trip; one at a time, a fraction of the server's rate; BENCHMARKS.md).
 */
export const DEFAULT_NATS_IN_FLIGHT = 128;

export interface DeliveryOptions {
  /** Attempts of one message before it becomes a dead letter and delivery moves on. */
  maxAttempts?: number;
  /** The wait after a first failure; it doubles after each, up to maxDelayMs. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** How often the log and the subscribers are read for what is new. */
  pollMs?: number;
  /** Messages of one webhook subscriber sent at once (those of one contact one after the other, in log order). */
  inFlight?: number;
  /** The same for a NATS subscriber: publishes whose acknowledgements are awaited together. */
  natsInFlight?: number;
  /** Events read from the log at once; the checkpoint moves after each page. */
  pageSize?: number;
  /** The longest a receiver may take to answer one attempt. */
  timeoutMs?: number;
  /** The NATS server of the NATS subscribers (LEDGER_NATS_URL), connected to only when there is one. */
  natsUrl?: string;
  /** The JetStream stream that takes the NATS subscribers' subjects (LEDGER_NATS_STREAM). */
  natsStream?: string;
  /** A failure of the runner itself (the log or the checkpoints unreachable): it tries again at the next poll. */
  onError?(error: unknown, subscriber: string): void;
  /** A message given up on (what the log may say of it: names and ids, never a url). */
  onDeadLetter?(letter: DeadLetter): void;
}

export type DeliveryContext = Pick<LedgerContext, 'store' | 'keys' | 'now'> & {
  readModels: { delivery: DeliveryCheckpoints };
};

/**
 * The wait before attempt `attempt + 1` after `attempt` failures: exponential, capped, with full
 * jitter over its upper half, so that the messages of a receiver back from an outage, and those
 * of several nodes, do not all come back at the same instant.
 */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random = Math.random): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** (attempt - 1));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/**
 * Delivers the log to each subscriber (issue 27, DESIGN.md "Downstream and operations"), a webhook
 * or a NATS JetStream subject, each kind by its sender (sender.ts), the loop the same:
 * at least once, in log order per contact, from its checkpoint kept beside the read models. One
 * worker per subscriber, so a receiver down holds up no other, each with up to `inFlight` messages
 * at once (of different contacts). A message is tried until it is delivered or its attempts are
 * spent (then a dead letter): the checkpoint moves after each page, to where every message before
 * it is settled, so a crash or a stop sends again at most a page's messages, never skips one.
 */
export class DeliveryRunner {
  private readonly abort = new AbortController();
  private readonly workers = new Map<string, Promise<void>>();
  /** The subscribers as last read from the log, by the event that made each (Subscriber.since). */
  private current = new Map<string, Subscriber>();
  private loop: Promise<void> = Promise.resolve();
  /** Subscribers with news appended while they were draining: they drain again at once. */
  private readonly pending = new Set<string>();
  /** Ends the run loop's wait (an append of a subscribed type). */
  private wakeUp: () => void = () => {};
  /** An append came since the loop last began: it does not wait (the wake may have come before its wait). */
  private woken = false;
  /** The live subscription that wakes it, and the types it follows (they change with the subscribers). */
  private live: { types: string; subscription: Subscription } | null = null;
  private readonly senders: Senders;

  constructor(
    private readonly context: DeliveryContext,
    private readonly options: DeliveryOptions = {},
  ) {
    this.senders = {
      webhook: new WebhookSender(context),
      nats: new NatsSender({
        url: options.natsUrl ?? DEFAULT_NATS_URL,
        stream: options.natsStream ?? DEFAULT_NATS_STREAM,
      }),
    };
  }

  start(): this {
    this.loop = this.run();
    return this;
  }

  /** Stops at once (an attempt in flight is cut): what was not checkpointed is sent again at the next start. */
  async stop(): Promise<void> {
    this.abort.abort();
    this.wakeUp();
    this.live?.subscription.unsubscribe();
    await this.loop;
    // Closed before the workers are awaited: a publish in flight is cut, as a POST is by the abort.
    await Promise.all(Object.values(this.senders).map((sender) => sender.close()));
    await Promise.all(this.workers.values());
  }

  private get stopped(): boolean {
    return this.abort.signal.aborted;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      this.woken = false;
      try {
        const state = await readSubscribers(this.context.store);
        this.current = new Map([...state.values()].map((subscriber) => [subscriber.since, subscriber]));
        await this.follow();
        for (const subscriber of this.current.values()) {
          if (this.workers.has(subscriber.since)) continue;
          const worker = this.drainWhilePending(subscriber.since)
            .catch((error: unknown) => this.options.onError?.(error, subscriber.name))
            .finally(() => this.workers.delete(subscriber.since));
          this.workers.set(subscriber.since, worker);
        }
      } catch (error) {
        this.options.onError?.(error, '*');
      }
      if (this.woken) continue;
      const idle = new AbortController();
      this.wakeUp = () => idle.abort();
      await this.pause(this.options.pollMs ?? 1000, idle.signal);
    }
  }

  /**
   * Follows the appends of the types subscribed to, from the head: each wakes the delivery at once
   * (a forgetting reaches its subscribers in milliseconds, not at the next poll). The poll stays, for
   * configuration changes and for the time the subscription is down (an outage: it follows again).
   */
  private async follow(): Promise<void> {
    const subscribers = [...this.current.values()];
    const types = [...new Set(subscribers.flatMap((subscriber) => subscriber.eventTypes))].sort();
    if (this.live?.types === types.join()) return;
    this.live?.subscription.unsubscribe();
    this.live = null;
    if (types.length === 0) return;
    const after = await this.context.store.headPosition();
    if (this.stopped) return;
    const subscription = this.context.store.subscribe({ after, types }).subscribe({
      next: () => {
        for (const id of this.workers.keys()) this.pending.add(id);
        this.woken = true;
        this.wakeUp();
      },
      error: (error: unknown) => {
        this.options.onError?.(error, '*');
        if (this.live?.subscription === subscription) this.live = null;
      },
    });
    this.live = { types: types.join(), subscription };
  }

  /** Drains, then again while news came meanwhile (what a drain read before it came it did not see). */
  private async drainWhilePending(id: string): Promise<void> {
    do {
      this.pending.delete(id);
      await this.drain(id);
    } while (this.pending.has(id) && !this.stopped);
  }

  /** Waits, or less when stopped (or `cut`). */
  private async pause(ms: number, cut?: AbortSignal): Promise<void> {
    const signal = cut ? AbortSignal.any([this.abort.signal, cut]) : this.abort.signal;
    await sleep(ms, undefined, { signal }).catch(() => undefined);
  }

  /**
   * Delivers the log after the subscriber's checkpoint, up to `inFlight` messages at once, those of
   * one contact in log order (InOrderWindow); returns when all is delivered, or removed, or stopped.
   * The checkpoint moves after each page to where every message before it is settled; a write of it
   * failing stops the sending, and fails the drain once the messages in flight have ended.
   */
  private async drain(id: string): Promise<void> {
    const { store, readModels } = this.context;
    const first = this.current.get(id);
    if (!first) return;
    const checkpoint = await readModels.delivery.deliveryCheckpoint(id);
    const health = await readModels.delivery.deliveryHealth(id);
    const progress = new Progress(readModels.delivery, id, first.name, checkpoint, health, this.context.now);
    if ((await this.replay(id, progress)) === 'stopped') return;
    // Given up on past the checkpoint (before a crash): not tried again, its letter says it.
    const lettered = new Set((await readModels.delivery.deadLetters(id)).map((letter) => letter.eventId));
    const inFlight =
      first.kind === 'webhook'
        ? (this.options.inFlight ?? DEFAULT_DELIVERY_IN_FLIGHT)
        : (this.options.natsInFlight ?? DEFAULT_NATS_IN_FLIGHT);
    const window = new InOrderWindow(checkpoint, inFlight);
    let halted = false;
    const read = (after: number, limit: number) => store.readAll({ after, limit });
    try {
      pages: for await (const page of pagesAfter(read, checkpoint, this.options.pageSize ?? 500)) {
        for (const event of page) {
          // Its configuration as now in force (another url, other types); none: removed, nothing more is sent.
          const subscriber = this.current.get(id);
          if (!subscriber || this.stopped || halted) break pages;
          const message = deliveryMessage(subscriber, event);
          if (!message || lettered.has(event.id)) {
            window.skip(event.position);
            continue;
          }
          const send = async (): Promise<boolean> => {
            if (halted) return false;
            const failure = await this.deliver(id, subscriber, message, progress);
            if (failure === 'stopped') {
              halted = true;
              return false;
            }
            if (failure) {
              const letter = { subscriberId: id, name: first.name, eventId: event.id, position: event.position };
              const dead = { ...letter, ...failure, replay: false };
              // Recorded at once: a restart never spends its attempts again (see `lettered`).
              await progress.save(window.checkpoint, [dead]);
              this.options.onDeadLetter?.(dead);
            }
            return true;
          };
          // The checkpoints unreachable: nothing more is sent; the drain fails, and starts again at the next poll.
          const halting = (error: unknown) => {
            halted = true;
            throw error;
          };
          await window.add(message.contactId, event.position, () => send().catch(halting));
        }
        // Not waited for: the messages go on meanwhile (a write to the checkpoints may take an fsync).
        progress.save(window.checkpoint).catch(() => (halted = true));
      }
    } finally {
      await window.drained().finally(() => progress.save(window.checkpoint));
    }
  }

  /**
   * Sends again the dead letters an admin asked for, in log order, before what follows the
   * checkpoint (so after later messages: a receiver that keeps the latest of a contact's decisions
   * compares positions). Each is removed once delivered, or recorded failed again.
   */
  private async replay(id: string, progress: Progress): Promise<'stopped' | void> {
    const { store, readModels } = this.context;
    for (const letter of await readModels.delivery.deadLetters(id)) {
      const subscriber = this.current.get(id);
      if (!letter.replay) continue;
      if (!subscriber || this.stopped) return 'stopped';
      // Positions are exclusive bounds, not always dense (EventStoreDB): the first event from it is the one.
      const [event] = await store.readAll({ after: letter.position - 1, limit: 1 });
      const message = event?.id === letter.eventId ? deliveryMessage({ eventTypes: [event.type] }, event) : null;
      if (!message) {
        await readModels.delivery.settleDeadLetter(letter, true); // no longer in the log: nothing to send
        continue;
      }
      const failure = await this.deliver(id, subscriber, message, progress);
      if (failure === 'stopped') return 'stopped';
      await readModels.delivery.settleDeadLetter(failure ? { ...letter, ...failure } : letter, failure === null);
    }
  }

  /**
   * Tries a message until delivered (null), its attempts spent (the dead letter's facts), or the
   * runner stopped or the subscriber removed or sent elsewhere ('stopped': the message is not given up on).
   */
  private async deliver(
    id: string,
    subscriber: Subscriber,
    message: DeliveryMessage,
    progress: Progress,
  ): Promise<null | 'stopped' | Pick<DeadLetter, 'attempts' | 'error' | 'failedAt'>> {
    const {
      maxAttempts = DEFAULT_DELIVERY_ATTEMPTS,
      baseDelayMs = DEFAULT_BACKOFF_MS,
      maxDelayMs = DEFAULT_MAX_BACKOFF_MS,
    } = this.options;
    const send = { timeoutMs: this.options.timeoutMs ?? 10_000, signal: this.abort.signal, now: this.context.now };
    let attempt: Attempt = { ok: false, error: 'not tried' };
    for (let tried = 1; tried <= maxAttempts; tried++) {
      attempt =
        subscriber.kind === 'webhook'
          ? await this.senders.webhook.send(subscriber, message, send)
          : await this.senders.nats.send(subscriber, message, send);
      if (attempt.ok) {
        progress.delivered(message);
        return null;
      }
      if (this.stopped) return 'stopped';
      // Recorded at once, not with the next checkpoint: an admin sees a receiver failing while it is retried.
      await progress.failed(attempt.error);
      if (tried < maxAttempts) await this.pause(backoffDelay(tried, baseDelayMs, maxDelayMs));
      const now = this.current.get(id);
      if (this.stopped || now?.kind !== subscriber.kind || destination(now) !== destination(subscriber))
        return 'stopped';
    }
    return {
      attempts: maxAttempts,
      error: attempt.ok ? '' : attempt.error,
      failedAt: this.context.now().toISOString(),
    };
  }
}

/**
 * A drain's writes of its checkpoint, dead letters and health (DeliveryHealth), one after the other
 * in the order made: from several messages at once they would race, and a checkpoint must never go
 * back. A message delivered is recorded with the next checkpoint, a failed attempt at once.
 */
class Progress {
  private last: Promise<void> = Promise.resolve();
  /** The health changed since last saved. */
  private changed = false;

  constructor(
    private readonly delivery: DeliveryCheckpoints,
    private readonly id: string,
    private readonly name: string,
    private saved: number,
    private health: DeliveryHealth,
    private readonly now: () => Date,
  ) {}

  delivered(message: DeliveryMessage): void {
    const lastDelivery = { eventId: message.id, position: message.position, at: this.now().toISOString() };
    this.health = { ...this.health, lastDelivery, failing: null };
    this.changed = true;
  }

  failed(error: string): Promise<void> {
    const at = this.now().toISOString();
    const failing = { since: this.health.failing?.since ?? at, attempts: (this.health.failing?.attempts ?? 0) + 1 };
    this.health = { ...this.health, lastFailure: { error, at }, failing };
    this.changed = true;
    return this.save(this.saved);
  }

  save(position: number, deadLetters: readonly DeadLetter[] = []): Promise<void> {
    if (position === this.saved && !this.changed && deadLetters.length === 0) return this.last;
    const health = this.health;
    this.saved = position;
    this.changed = false;
    this.last = this.last.then(() => this.delivery.advanceDelivery(this.id, this.name, position, deadLetters, health));
    return this.last;
  }
}
