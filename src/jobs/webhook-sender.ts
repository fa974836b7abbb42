import { webhookHeaders } from '../crypto/webhook-signature.js';
import type { DeliveryMessage } from '../domain/subscribers.js';

/** How one attempt went: delivered (a 2xx), or why not, in a few words that hold nothing a receiver wrote. */
export type Attempt = { ok: true } | { ok: false; error: string };

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
  options: { timeoutMs: number; signal: AbortSignal; now: () => Date },
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
