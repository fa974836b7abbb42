import { webhookSecret } from '../app/subscribers.js';
import type { LedgerContext } from '../app/ledger-context.js';
import { webhookHeaders } from '../crypto/webhook-signature.js';
import { signingSecretSeeds, type DeliveryMessage, type Subscriber } from '../domain/subscribers.js';
import type { Attempt, Sender, SendOptions } from './sender.js';

/**
 * POSTs one message to a webhook, signed to the Standard Webhooks specification (`webhook-id` is
 * the event id, so a receiver de-duplicates the at-least-once deliveries by it). Redirects are not
 * followed: a signed message goes to the url configured, nowhere else. The receiver's body is
 * read and dropped, never kept: the error says its status only, or the network error's code.
 */
export async function postWebhook(
  url: string,
  secrets: readonly string[],
  message: DeliveryMessage,
  options: SendOptions,
): Promise<Attempt> {
  const body = JSON.stringify(message);
  const timestamp = Math.floor(options.now().getTime() / 1000);
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...webhookHeaders(secrets, message.id, timestamp, body) },
      body,
      redirect: 'manual',
      signal: AbortSignal.any([options.signal, AbortSignal.timeout(options.timeoutMs)]),
    });
    await response.arrayBuffer().catch(() => undefined);
    return response.status >= 200 && response.status < 300
      ? { ok: true }
      : { ok: false, error: `HTTP ${response.status}` };
  } catch (error) {
    const cause = (error as { cause?: { code?: unknown } }).cause;
    const code = typeof cause?.code === 'string' ? cause.code : (error as Error).name;
    return { ok: false, error: code };
  }
}

/**
 * The webhook subscribers' sender: each message signed with the subscriber's secret, and while a
 * rotation's overlap lasts with the one before too (signingSecretSeeds, at the delivery's `now`).
 * Each secret is derived once (by the event it dates from) and kept in memory only.
 */
export class WebhookSender implements Sender<'webhook'> {
  private readonly secrets = new Map<string, Promise<string>>();

  constructor(private readonly context: Pick<LedgerContext, 'keys'>) {}

  async send(
    subscriber: Extract<Subscriber, { kind: 'webhook' }>,
    message: DeliveryMessage,
    options: SendOptions,
  ): Promise<Attempt> {
    const seeds = signingSecretSeeds(subscriber, options.now());
    const secrets = await Promise.all(seeds.map((seed) => this.secret(subscriber, seed)));
    return postWebhook(subscriber.url, secrets, message, options);
  }

  private secret(subscriber: Subscriber, seed: string): Promise<string> {
    let secret = this.secrets.get(seed);
    if (!secret) {
      secret = webhookSecret(this.context, subscriber, seed);
      this.secrets.set(seed, secret);
      secret.catch(() => this.secrets.delete(seed)); // the key store unreachable: read it again
    }
    return secret;
  }

  async close(): Promise<void> {
    this.secrets.clear();
  }
}
