import { expect } from 'chai';
import { signWebhook, verifyWebhook, webhookHeaders, webhookSecretFrom } from '../../src/crypto/webhook-signature.js';

/** Standard Webhooks signing: the reference libraries' published test vector, and what a receiver checks. */
describe('webhook signatures (Standard Webhooks)', () => {
  // The test vector of the specification's reference libraries (standard-webhooks/standard-webhooks).
  const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
  const id = 'msg_p5jXN8AQM9LWM0D4loKWxJek';
  const timestamp = 1614265330;
  const body = '{"test": 2432232314}';

  it('signs the test vector as the specification does', () => {
    expect(signWebhook(secret, id, timestamp, body)).to.equal('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  it('a receiver verifies the headers, among several signatures (a secret being rotated)', () => {
    const headers = webhookHeaders([secret], id, timestamp, body);
    const now = new Date(timestamp * 1000 + 60_000);
    expect(verifyWebhook(secret, headers, body, now)).to.equal(true);
    const rotating = { ...headers, 'webhook-signature': `v1,AAAA ${headers['webhook-signature']}` };
    expect(verifyWebhook(secret, rotating, body, now)).to.equal(true);
  });

  it('signs with each secret given, space-separated, the new first: a receiver holding either accepts', () => {
    const next = webhookSecretFrom(Buffer.alloc(32, 1), 'rotation');
    const headers = webhookHeaders([next, secret], id, timestamp, body);
    expect(headers['webhook-signature']).to.equal(
      `${signWebhook(next, id, timestamp, body)} ${signWebhook(secret, id, timestamp, body)}`,
    );
    const now = new Date(timestamp * 1000);
    expect(verifyWebhook(secret, headers, body, now)).to.equal(true);
    expect(verifyWebhook(next, headers, body, now)).to.equal(true);
    expect(verifyWebhook(webhookSecretFrom(Buffer.alloc(32, 2), 'other'), headers, body, now)).to.equal(false);
  });

  it('a receiver refuses another body, another secret, and a timestamp out of tolerance', () => {
    const headers = webhookHeaders([secret], id, timestamp, body);
    const now = new Date(timestamp * 1000);
    expect(verifyWebhook(secret, headers, '{"test": 1}', now)).to.equal(false);
    expect(verifyWebhook(webhookSecretFrom(Buffer.alloc(32), 'x'), headers, body, now)).to.equal(false);
    expect(verifyWebhook(secret, headers, body, new Date(now.getTime() + 6 * 60_000))).to.equal(false);
  });

  it('derives a whsec_ secret of 32 bytes, a new one for each event that makes a webhook', () => {
    const key = Buffer.alloc(32, 7);
    const first = webhookSecretFrom(key, 'event-1');
    expect(first).to.match(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(first.slice(6), 'base64')).to.have.length(32);
    expect(webhookSecretFrom(key, 'event-1')).to.equal(first);
    expect(webhookSecretFrom(key, 'event-2')).to.not.equal(first);
  });
});
