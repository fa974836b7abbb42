import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { webhookSecret } from '../app/subscribers.js';
import type { LedgerContext } from '../app/ledger-context.js';
import { webhookHeaders } from '../crypto/webhook-signature.js';
import { signingSecretSeeds, type DeliveryMessage, type Subscriber } from '../domain/subscribers.js';
import type { Attempt, Sender, SendOptions } from './sender.js';

/**
 * Connections kept open between messages (keep-alive), as many per receiver as messages in flight:
 * node:http rather than fetch, which costs several times more per request (BENCHMARKS.md).
 */
const agents = { http: new HttpAgent({ keepAlive: true }), https: new HttpsAgent({ keepAlive: true }) };

/**
 * POSTs one message to a webhook, signed to the Standard Webhooks specification (`webhook-id` is
 * the event id, so a receiver de-duplicates the at-least-once deliveries by it). Redirects are not
 * followed: a signed message goes to the url configured, nowhere else. The receiver's body is
 * read and dropped, never kept: the error says its status only, or the network error's code.
 */
export function postWebhook(
  url: string,
  secrets: readonly string[],
  message: DeliveryMessage,
  options: SendOptions,
): Promise<Attempt> {
  const body = JSON.stringify(message);
  const timestamp = Math.floor(options.now().getTime() / 1000);
  const timeout = AbortSignal.timeout(options.timeoutMs);
  const https = url.startsWith('https:');
  const headers = {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    ...webhookHeaders(secrets, message.id, timestamp, body),
  };
  return new Promise<Attempt>((resolve) => {
    const failed = (error: Error & { code?: unknown }) =>
      resolve({
        ok: false,
        error: timeout.aborted ? 'TimeoutError' : typeof error.code === 'string' ? error.code : error.name,
      });
    const request = (https ? httpsRequest : httpRequest)(
      url,
      {
        method: 'POST',
        headers,
        agent: https ? agents.https : agents.http,
        signal: AbortSignal.any([options.signal, timeout]),
      },
      (response) => {
        const status = response.statusCode ?? 0;
        response.on('error', failed);
        response.on('end', () =>
          resolve(status >= 200 && status < 300 ? { ok: true } : { ok: false, error: `HTTP ${status}` }),
        );
        response.resume();
      },
    );
    request.on('error', failed);
    request.end(body);
  });
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
