import { setTimeout as sleep } from 'node:timers/promises';
import { readSubscribers, webhookSecret } from '../app/subscribers.js';
import type { LedgerContext } from '../app/ledger-context.js';
import { deliveryMessage, type DeliveryMessage, type Subscriber } from '../domain/subscribers.js';
import type { DeadLetter } from '../projections/delivery-tables.js';
import type { DeliveryCheckpoints } from '../projections/read-model-store.js';
import { pagesAfter } from '../store/pages.js';
import { postWebhook, type Attempt } from './webhook-sender.js';

/** Attempts of one message before it becomes a dead letter, by default (LEDGER_DELIVERY_ATTEMPTS). */
export const DEFAULT_DELIVERY_ATTEMPTS = 8;

export interface DeliveryOptions {
  /** Attempts of one message before it becomes a dead letter and delivery moves on. */
  maxAttempts?: number;
  /** The wait after a first failure; it doubles after each, up to maxDelayMs. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** How often the log and the subscribers are read for what is new. */
  pollMs?: number;
  /** Events read from the log at once; the checkpoint moves after each page. */
  pageSize?: number;
  /** The longest a receiver may take to answer one attempt. */
  timeoutMs?: number;
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
 * Delivers the log to each webhook subscriber (issue 27, DESIGN.md "Downstream and operations"):
 * at least once, in log order, from its checkpoint kept beside the read models. One worker per
 * subscriber, so a receiver down holds up no other. A message is tried until it is delivered or
 * its attempts are spent (then a dead letter, and the next): the checkpoint moves after each page
 * only, so a crash or a stop sends again at most a page's messages, never skips one. NATS
 * subscribers are configured but not delivered to yet.
 */
export class DeliveryRunner {
  private readonly abort = new AbortController();
  private readonly workers = new Map<string, Promise<void>>();
  /** The subscribers as last read from the log, by the event that made each (Subscriber.since). */
  private current = new Map<string, Subscriber>();
  private loop: Promise<void> = Promise.resolve();

  constructor(
    private readonly context: DeliveryContext,
    private readonly options: DeliveryOptions = {},
  ) {}

  start(): this {
    this.loop = this.run();
    return this;
  }

  /** Stops at once (an attempt in flight is cut): what was not checkpointed is sent again at the next start. */
  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
    await Promise.all(this.workers.values());
  }

  private get stopped(): boolean {
    return this.abort.signal.aborted;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        const state = await readSubscribers(this.context.store);
        this.current = new Map([...state.values()].map((subscriber) => [subscriber.since, subscriber]));
        for (const subscriber of this.current.values()) {
          if (subscriber.kind !== 'webhook' || this.workers.has(subscriber.since)) continue;
          const worker = this.drain(subscriber.since)
            .catch((error: unknown) => this.options.onError?.(error, subscriber.name))
            .finally(() => this.workers.delete(subscriber.since));
          this.workers.set(subscriber.since, worker);
        }
      } catch (error) {
        this.options.onError?.(error, '*');
      }
      await this.pause(this.options.pollMs ?? 1000);
    }
  }

  /** Waits, or less when stopped. */
  private async pause(ms: number): Promise<void> {
    await sleep(ms, undefined, { signal: this.abort.signal }).catch(() => undefined);
  }

  /** Delivers the log after the subscriber's checkpoint; returns when all is delivered, or removed, or stopped. */
  private async drain(id: string): Promise<void> {
    const { store, readModels } = this.context;
    const first = this.current.get(id);
    if (!first) return;
    const secret = await webhookSecret(this.context, first);
    const checkpoint = await readModels.delivery.deliveryCheckpoint(id);
    const read = (after: number, limit: number) => store.readAll({ after, limit });
    for await (const page of pagesAfter(read, checkpoint, this.options.pageSize ?? 500)) {
      let done = checkpoint;
      for (const event of page) {
        // Its configuration as now in force (another url, other types); none: removed, nothing more is sent.
        const subscriber = this.current.get(id);
        if (!subscriber || subscriber.kind !== 'webhook' || this.stopped) {
          await readModels.delivery.advanceDelivery(id, first.name, done, []);
          return;
        }
        const message = deliveryMessage(subscriber, event);
        const failure = message ? await this.deliver(subscriber.url, secret, message) : null;
        if (failure === 'stopped') {
          await readModels.delivery.advanceDelivery(id, first.name, done, []);
          return;
        }
        if (failure) {
          const letter = {
            subscriberId: id,
            name: first.name,
            eventId: event.id,
            position: event.position,
            ...failure,
          };
          // Recorded at once, with the checkpoint past it: a restart never spends its attempts again.
          await readModels.delivery.advanceDelivery(id, first.name, event.position, [letter]);
          this.options.onDeadLetter?.(letter);
        }
        done = event.position;
      }
      await readModels.delivery.advanceDelivery(id, first.name, done, []);
    }
  }

  /** Tries a message until delivered (null), its attempts spent (the dead letter's facts), or the runner stopped. */
  private async deliver(
    url: string,
    secret: string,
    message: DeliveryMessage,
  ): Promise<null | 'stopped' | Pick<DeadLetter, 'attempts' | 'error' | 'failedAt'>> {
    const { maxAttempts = DEFAULT_DELIVERY_ATTEMPTS, baseDelayMs = 500, maxDelayMs = 60_000 } = this.options;
    const send = { timeoutMs: this.options.timeoutMs ?? 10_000, signal: this.abort.signal, now: this.context.now };
    let attempt: Attempt = { ok: false, error: 'not tried' };
    for (let tried = 1; tried <= maxAttempts; tried++) {
      attempt = await postWebhook(url, secret, message, send);
      if (attempt.ok) return null;
      if (this.stopped) return 'stopped';
      if (tried < maxAttempts) await this.pause(backoffDelay(tried, baseDelayMs, maxDelayMs));
      if (this.stopped) return 'stopped';
    }
    return {
      attempts: maxAttempts,
      error: attempt.ok ? '' : attempt.error,
      failedAt: this.context.now().toISOString(),
    };
  }
}
