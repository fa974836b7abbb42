import { expect } from 'chai';
import { openTestLedger, type TestLedger } from '../support/ledger.js';
import { startReceiver, until } from '../support/receiver.js';
import { configureTestPurposes, consentGiven, person, registered, type Person } from '../support/events.js';
import { randomBytes } from 'node:crypto';
import { openLedger, rotateLedgerMasterKey } from '../../src/app/open-ledger.js';
import { MasterKey } from '../../src/crypto/master-key.js';
import { readConfig } from '../../src/config.js';
import { publish } from '../../src/app/publish.js';
import {
  configureSubscriber,
  listDeadLetters,
  listSubscribers,
  readSubscribers,
  replayDeadLetters,
  rotateSubscriberSecret,
  webhookSecret,
} from '../../src/app/subscribers.js';
import { createLogger } from '../../src/log.js';
import { verifyWebhook } from '../../src/crypto/webhook-signature.js';
import {
  DEFAULT_BACKOFF_MS,
  DEFAULT_DELIVERY_ATTEMPTS,
  DEFAULT_MAX_BACKOFF_MS,
  DeliveryRunner,
  backoffDelay,
  type DeliveryOptions,
} from '../../src/jobs/delivery.js';
import type { DeadLetter } from '../../src/projections/delivery-tables.js';

/**
 * Delivery to webhooks from the log (issue 27, item 2 and 3): the configured types only, signed
 * to the Standard Webhooks specification, the clear part only, from a checkpoint that survives a
 * restart (duplicates allowed, nothing lost), retried while the receiver is down, a dead letter
 * after the attempts configured.
 */
describe('delivery to webhook subscribers', function () {
  this.timeout(60_000);
  let ledger: TestLedger;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let runner: DeliveryRunner | null = null;
  const fast: DeliveryOptions = { pollMs: 20, baseDelayMs: 5, maxDelayMs: 20, maxAttempts: 4, pageSize: 3 };
  beforeEach(async () => {
    ledger = await openTestLedger();
    await configureTestPurposes(ledger);
    receiver = await startReceiver();
  });
  afterEach(async () => {
    await runner?.stop();
    runner = null;
    await receiver.close();
    await ledger.dispose();
  });
  const start = (options: DeliveryOptions = {}) =>
    (runner = new DeliveryRunner(ledger, { ...fast, ...options }).start());
  const restriction = (p: Person, type: string) => ({
    type,
    contactId: p.contactId,
    organizationId: 'ORG-A',
    occurredAt: '2024-01-20T10:00:00Z',
    data: { reason: 'objection' },
  });
  const publishFor = async (p: Person) => {
    const outcome = await publish(ledger, {
      events: [registered(p), consentGiven(p), restriction(p, 'ProcessingRestricted')],
    });
    return outcome.appended.map((appended) => appended.id);
  };
  const ids = () => receiver.received.map(({ headers }) => headers['webhook-id']);

  it('sends the configured types only, in log order, signed, with the clear part only', async () => {
    const { secret } = await configureSubscriber(ledger, 'crm', { kind: 'webhook', url: receiver.url });
    const p = person();
    const [, consent, restricted] = await publishFor(p);
    start();
    await until(() => receiver.received.length === 2, 'two messages');
    expect(ids()).to.deep.equal([consent, restricted]);
    for (const { headers, body } of receiver.received) {
      expect(verifyWebhook(secret!, headers as Record<string, string>, body, new Date())).to.equal(true);
      expect(headers['content-type']).to.equal('application/json');
    }
    const message = JSON.parse(receiver.received[0]!.body);
    expect(message).to.deep.include({ id: consent, type: 'ConsentGiven', contactId: p.contactId });
    expect(Object.keys(message).sort()).to.deep.equal(
      ['contactId', 'data', 'id', 'occurredAt', 'organizationId', 'position', 'type'].sort(),
    );
    expect(message.data).to.deep.include({ purpose: 'newsletter' }).and.not.have.property('ipAddress');
    expect(receiver.received.map(({ body }) => body).join('\n')).to.not.include(p.ip);
    await until(async () => (await listSubscribers(ledger))[0]!.delivery.lag === 0, 'the checkpoint at the head');
  });

  it('an append of a subscribed type wakes the delivery at once, long before the next poll', async () => {
    await configureSubscriber(ledger, 'crm', { kind: 'webhook', url: receiver.url });
    const first = await publishFor(person());
    start({ pollMs: 60_000 });
    await until(() => receiver.received.length === 2, 'the first messages');
    const sent = Date.now();
    const next = await publishFor(person());
    await until(() => receiver.received.length === 4, 'the next messages', 5_000);
    expect(Date.now() - sent).to.be.below(2_000);
    expect(ids()).to.deep.equal([first[1], first[2], next[1], next[2]]);
  });

  it('a restart of the ledger goes on from the checkpoint: nothing lost, duplicates allowed', async () => {
    await configureSubscriber(ledger, 'crm', { kind: 'webhook', url: receiver.url });
    const before = await publishFor(person());
    start();
    await until(() => receiver.received.length === 2, 'the first messages');
    await runner!.stop();
    await ledger.close();
    Object.assign(ledger, await openLedger(ledger.config, createLogger('silent')));
    const after = await publishFor(person());
    start();
    await until(() => new Set(ids()).size === 4, 'the messages after the restart');
    const expected = [before[1], before[2], after[1], after[2]];
    expect([...new Set(ids())]).to.deep.equal(expected);
    // Each message at least once; only those not yet checkpointed at the stop may come twice.
    expect(ids().filter((id) => id === after[1])).to.have.length(1);
  });

  it('retries while the receiver fails, then delivers in order once it is back', async () => {
    await configureSubscriber(ledger, 'crm', { kind: 'webhook', url: receiver.url });
    receiver.status = 503;
    const published = await publishFor(person());
    start({ maxAttempts: 1000 });
    await until(() => receiver.attempts >= 3, 'retries');
    expect(receiver.received).to.have.length(0);
    receiver.status = 200;
    await until(() => receiver.received.length === 2, 'the messages after the outage');
    expect(ids()).to.deep.equal([published[1], published[2]]);
  });

  it('lists how delivery goes: failing since when, attempts, the last error, then the last delivery', async () => {
    await configureSubscriber(ledger, 'crm', { kind: 'webhook', url: receiver.url });
    receiver.status = 503;
    const published = await publishFor(person());
    const began = new Date().toISOString();
    start({ maxAttempts: 1000 });
    await until(async () => ((await listSubscribers(ledger))[0]!.delivery.failing?.attempts ?? 0) >= 3, 'failures');
    const failing = (await listSubscribers(ledger))[0]!.delivery;
    expect(failing.lastDelivery).to.equal(null);
    expect(failing.lastFailure!.error).to.equal('HTTP 503');
    expect(failing.failing!.since >= began && failing.failing!.since <= failing.lastFailure!.at).to.equal(true);
    receiver.status = 200;
    await until(async () => (await listSubscribers(ledger))[0]!.delivery.lag === 0, 'the checkpoint at the head');
    const { delivery } = (await listSubscribers(ledger))[0]!;
    expect(delivery.failing).to.equal(null);
    expect(delivery.lastFailure!.error).to.equal('HTTP 503');
    expect(delivery.lastDelivery).to.deep.include({ eventId: published[2], position: delivery.position });
  });

  it('a message being retried goes to the new url once the subscriber is configured with one', async () => {
    await configureSubscriber(ledger, 'crm', { kind: 'webhook', url: receiver.url });
    receiver.status = 503;
    const published = await publishFor(person());
    start({ maxAttempts: 1000 });
    await until(() => receiver.attempts >= 2, 'retries at the first url');
    const moved = await startReceiver();
    try {
      await configureSubscriber(ledger, 'crm', { kind: 'webhook', url: moved.url });
      await until(() => moved.received.length === 2, 'the messages at the new url');
      expect(moved.received.map(({ headers }) => headers['webhook-id'])).to.deep.equal([published[1], published[2]]);
    } finally {
      await runner!.stop();
      await moved.close();
    }
  });

  it('after its attempts a message is a dead letter (subscriber, event, error), and delivery moves on', async () => {
    await configureSubscriber(ledger, 'crm', { kind: 'webhook', url: receiver.url });
    receiver.status = 500;
    const letters: DeadLetter[] = [];
    const published = await publishFor(person());
    start({ onDeadLetter: (letter) => letters.push(letter) });
    await until(() => letters.length === 2, 'two dead letters');
    expect(receiver.attempts).to.equal(2 * fast.maxAttempts!);
    expect(letters.map((letter) => [letter.name, letter.eventId, letter.attempts, letter.error])).to.deep.equal([
      ['crm', published[1], 4, 'HTTP 500'],
      ['crm', published[2], 4, 'HTTP 500'],
    ]);
    const [listed] = await listSubscribers(ledger);
    expect(listed!.delivery.deadLetters).to.equal(2);
    receiver.status = 200;
    const later = await publishFor(person());
    await until(() => receiver.received.length === 2, 'the next messages');
    expect(ids()).to.deep.equal([later[1], later[2]]);
  });

  it('dead letters replayed by an admin are sent again, then removed; failing again, they stay', async () => {
    await configureSubscriber(ledger, 'crm', { kind: 'webhook', url: receiver.url });
    receiver.status = 500;
    const letters: DeadLetter[] = [];
    const published = await publishFor(person());
    start({ onDeadLetter: (letter) => letters.push(letter) });
    await until(() => letters.length === 2, 'two dead letters');
    expect((await listDeadLetters(ledger, 'crm')).map((letter) => letter.eventId)).to.deep.equal(published.slice(1));
    expect(await replayDeadLetters(ledger, 'crm')).to.equal(2);
    // The receiver still fails: both recorded failed again, no longer to replay.
    await until(
      async () => (await listDeadLetters(ledger, 'crm')).every((letter) => !letter.replay),
      'a failed replay',
    );
    expect(await listDeadLetters(ledger, 'crm')).to.have.length(2);
    receiver.status = 200;
    expect(await replayDeadLetters(ledger, 'crm')).to.equal(2);
    await until(() => receiver.received.length === 2, 'the replayed messages');
    expect(ids()).to.deep.equal([published[1], published[2]]);
    await until(async () => (await listDeadLetters(ledger, 'crm')).length === 0, 'the dead letters removed');
  });

  it('a receiver that is not listening is retried too, with the network error as the reason', async () => {
    await receiver.close();
    await configureSubscriber(ledger, 'crm', { kind: 'webhook', url: receiver.url });
    const letters: DeadLetter[] = [];
    await publishFor(person());
    start({ onDeadLetter: (letter) => letters.push(letter) });
    await until(() => letters.length === 2, 'two dead letters');
    expect(letters[0]!.error).to.equal('ECONNREFUSED');
    receiver = await startReceiver();
  });

  it('a receiver slower than the time-out is retried too, with TimeoutError as the reason', async () => {
    await configureSubscriber(ledger, 'crm', { kind: 'webhook', url: receiver.url });
    receiver.delayMs = () => 1_000;
    const letters: DeadLetter[] = [];
    await publishFor(person());
    start({ timeoutMs: 100, maxAttempts: 2, onDeadLetter: (letter) => letters.push(letter) });
    await until(() => letters.length === 2, 'two dead letters');
    expect(letters.map((letter) => letter.error)).to.deep.equal(['TimeoutError', 'TimeoutError']);
  });

  it('signs with the same secret after a rotation of the master key (its key is re-wrapped, not changed)', async () => {
    const { secret } = await configureSubscriber(ledger, 'crm', { kind: 'webhook', url: receiver.url });
    await ledger.close();
    const next = randomBytes(32).toString('base64');
    await rotateLedgerMasterKey(ledger.config, MasterKey.fromBase64(next, 'test'), {});
    Object.assign(
      ledger,
      await openLedger(readConfig({ ...ledger.env, LEDGER_MASTER_KEY: next }), createLogger('silent')),
    );
    const crm = (await readSubscribers(ledger.store)).get('crm')!;
    expect(await webhookSecret(ledger, crm)).to.equal(secret);
  });

  it('after a secret rotation signs with both secrets during the overlap, then with the new one only', async () => {
    let clock = new Date();
    ledger.now = () => clock;
    const { secret: old } = await configureSubscriber(ledger, 'crm', { kind: 'webhook', url: receiver.url });
    const { secret: next, previousValidUntil } = await rotateSubscriberSecret(ledger, 'crm', 24);
    expect(next)
      .to.match(/^whsec_/)
      .and.not.equal(old);
    expect(Date.parse(previousValidUntil) - clock.getTime()).to.equal(24 * 3_600_000);
    const verifies = (secret: string) =>
      receiver.received.map(({ headers, body }) =>
        verifyWebhook(secret, headers as Record<string, string>, body, clock),
      );
    await publishFor(person());
    start();
    await until(() => receiver.received.length === 2, 'the messages during the overlap');
    expect(receiver.received[0]!.headers['webhook-signature']).to.match(/^v1,\S+ v1,\S+$/);
    expect(verifies(old!)).to.deep.equal([true, true]);
    expect(verifies(next)).to.deep.equal([true, true]);
    clock = new Date(Date.parse(previousValidUntil) + 1000);
    receiver.received.length = 0;
    await publishFor(person());
    await until(() => receiver.received.length === 2, 'the messages after the overlap');
    expect(receiver.received[0]!.headers['webhook-signature']).to.match(/^v1,\S+$/);
    expect(verifies(next)).to.deep.equal([true, true]);
    expect(verifies(old!)).to.deep.equal([false, false]);
  });

  it('waits exponentially longer, with jitter, up to its cap', () => {
    expect([1, 2, 3, 4, 10].map((attempt) => backoffDelay(attempt, 500, 60_000, () => 1))).to.deep.equal([
      500, 1000, 2000, 4000, 60_000,
    ]);
    expect(backoffDelay(3, 500, 60_000, () => 0)).to.equal(1000);
  });

  it('spends its default attempts over more than ten minutes, however the jitter falls', () => {
    const waits = (random: () => number) =>
      Array.from({ length: DEFAULT_DELIVERY_ATTEMPTS - 1 }, (_, k) =>
        backoffDelay(k + 1, DEFAULT_BACKOFF_MS, DEFAULT_MAX_BACKOFF_MS, random),
      ).reduce((sum, wait) => sum + wait, 0);
    // A receiver down for ten minutes: the message waiting on it is still being tried when it is back.
    expect(waits(() => 0)).to.be.above(10 * 60_000);
    expect(waits(() => 1)).to.be.below(24 * 60_000);
  });
});
