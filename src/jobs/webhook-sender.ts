import { webhookSecret } from '../app/subscribers.js';
import type { LedgerContext } from '../app/ledger-context.js';
import { webhookHeaders } from '../crypto/webhook-signature.js';
import type { DeliveryMessage, Subscriber } from '../domain/subscribers.js';
import type { Attempt, Sender, SendOptions } from './sender.js';

/**
 * POSTs one message to a webhook, signed to the Standard Webhooks specification (`webhook-id` is
 * the event id, so a receiver de-duplicates the at-least-once deliveries by it). Redirects are not
 * followed: a signed message goes to the url configured, nowhere else. The receiver's body is
 * read and dropped, never kept: the error says its status only, or the network error's code.
 */
export async function postWebhook(
  url: string,
  secret: string,
  message: DeliveryMessage,
  options: SendOptions,
): Promise<Attempt> {
  const body = JSON.stringify(message);
  const timestamp = Math.floor(options.now().getTime() / 1000);
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...webhookHeaders(secret, message.id, timestamp, body) },
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
 * The webhook subscribers' sender: each signed with its secret, derived once per subscriber (by the
 * event that made it a webhook: a subscriber configured again has another) and kept in memory only.
 */
export class WebhookSender implements Sender<'webhook'> {
  private readonly secrets = new Map<string, Promise<string>>();

  constructor(private readonly context: Pick<LedgerContext, 'keys'>) {}

  async send(
    subscriber: Extract<Subscriber, { kind: 'webhook' }>,
    message: DeliveryMessage,
    options: SendOptions,
  ): Promise<Attempt> {
    let secret = this.secrets.get(subscriber.since);
    if (!secret) {
      secret = webhookSecret(this.context, subscriber);
      this.secrets.set(subscriber.since, secret);
      secret.catch(() => this.secrets.delete(subscriber.since)); // the key store unreachable: read it again
    }
    return postWebhook(subscriber.url, await secret, message, options);
  }

  async close(): Promise<void> {
    this.secrets.clear();
  }
}
