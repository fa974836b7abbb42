import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Webhook signatures to the Standard Webhooks specification (https://www.standardwebhooks.com):
 * `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, keyed by the bytes of the
 * secret after `whsec_`. A receiver verifies with any of the specification's libraries.
 */
export const WEBHOOK_SECRET_PREFIX = 'whsec_';

/** A receiver may refuse a timestamp further from its clock than this (the specification's libraries: 5 minutes). */
export const WEBHOOK_TOLERANCE_SECONDS = 5 * 60;

/**
 * A subscriber's webhook secret, derived from its scope's data key (kept in the key store, wrapped
 * by the master key) and the event that made the subscriber a webhook. Derived rather than stored:
 * nothing of it is in the log, the key store holds a key as for any scope (re-wrapped, never
 * changed, by a rotation of the master key, so the secret survives it), and a subscriber removed
 * and configured again gets a new secret from its new event. 32 bytes, more than the 24 the
 * specification asks.
 */
export function webhookSecretFrom(dataKey: Buffer, since: string): string {
  const bytes = createHmac('sha256', dataKey).update(`webhook-secret\n${since}`).digest();
  return `${WEBHOOK_SECRET_PREFIX}${bytes.toString('base64')}`;
}

const secretBytes = (secret: string): Buffer => {
  if (!secret.startsWith(WEBHOOK_SECRET_PREFIX)) throw new Error('a webhook secret starts with whsec_');
  return Buffer.from(secret.slice(WEBHOOK_SECRET_PREFIX.length), 'base64');
};

/** The `v1,` signature of a message: `timestamp` in unix seconds, `body` the exact bytes sent. */
export function signWebhook(secret: string, id: string, timestamp: number, body: string): string {
  const mac = createHmac('sha256', secretBytes(secret)).update(`${id}.${timestamp}.${body}`).digest('base64');
  return `v1,${mac}`;
}

/**
 * The three headers of a message, signed with each secret (several while one is rotated: the
 * specification's space-separated list, which a receiver holding either secret accepts).
 */
export function webhookHeaders(
  secrets: readonly string[],
  id: string,
  timestamp: number,
  body: string,
): Record<string, string> {
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': secrets.map((secret) => signWebhook(secret, id, timestamp, body)).join(' '),
  };
}

/**
 * What a receiver checks (the tests use it as one): one of the space-separated signatures is the
 * message's (several while a secret is rotated), in constant time, and the timestamp is within the
 * tolerance of `now` (a replay of an old message is refused).
 */
export function verifyWebhook(
  secret: string,
  headers: Record<string, string | string[] | undefined>,
  body: string,
  now: Date,
  toleranceSeconds = WEBHOOK_TOLERANCE_SECONDS,
): boolean {
  const [id, timestamp, signatures] = ['webhook-id', 'webhook-timestamp', 'webhook-signature'].map((name) => {
    const value = headers[name];
    return typeof value === 'string' ? value : null;
  });
  if (id == null || timestamp == null || signatures == null || !/^\d+$/.test(timestamp)) return false;
  if (Math.abs(now.getTime() / 1000 - Number(timestamp)) > toleranceSeconds) return false;
  const expected = Buffer.from(signWebhook(secret, id, Number(timestamp), body));
  return signatures.split(' ').some((signature) => {
    const given = Buffer.from(signature);
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}
