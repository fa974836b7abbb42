import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { connect, type JetStreamManager, type NatsConnection } from 'nats';
import { openTestLedger, type TestLedger } from '../support/ledger.js';
import { until } from '../support/receiver.js';
import { configureTestPurposes, consentGiven, person, registered, type Person } from '../support/events.js';
import { publish } from '../../src/app/publish.js';
import { configureSubscriber, listSubscribers, readSubscribers } from '../../src/app/subscribers.js';
import { DEFAULT_NATS_URL } from '../../src/config.js';
import { DeliveryRunner, type DeliveryOptions } from '../../src/jobs/delivery.js';
import { NatsSender } from '../../src/jobs/nats-sender.js';
import type { DeadLetter } from '../../src/projections/delivery-tables.js';

/**
 * Delivery to NATS JetStream subscribers (issue 27, item 4), against the NATS server on this
 * machine (JetStream enabled): a stream and subject of this run's own, deleted after it.
 */
describe('delivery to NATS JetStream subscribers', function () {
  this.timeout(60_000);
  const run = randomBytes(4).toString('hex');
  const stream = `LEDGER_TEST_${run}`;
  let subject = '';
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let ledger: TestLedger;
  let runner: DeliveryRunner | null = null;
  let tests = 0;
  const fast: DeliveryOptions = { pollMs: 20, baseDelayMs: 5, maxDelayMs: 20, maxAttempts: 4, pageSize: 3 };
  before(async () => {
    nc = await connect({ servers: DEFAULT_NATS_URL });
    jsm = await nc.jetstreamManager();
  });
  after(async () => {
    await jsm.streams.delete(stream).catch(() => undefined);
    await nc.close();
  });
  beforeEach(async () => {
    subject = `ledger.test.${run}.${++tests}`;
    ledger = await openTestLedger();
    await configureTestPurposes(ledger);
  });
  afterEach(async () => {
    await runner?.stop();
    runner = null;
    await ledger.dispose();
  });
  const start = (options: DeliveryOptions = {}) =>
    (runner = new DeliveryRunner(ledger, { ...fast, natsStream: stream, ...options }).start());
  const publishFor = async (p: Person) => {
    const restricted = {
      type: 'ProcessingRestricted',
      contactId: p.contactId,
      organizationId: 'ORG-A',
      occurredAt: '2024-01-20T10:00:00Z',
      data: { reason: 'objection' },
    };
    const outcome = await publish(ledger, { events: [registered(p), consentGiven(p), restricted] });
    return outcome.appended.map((appended) => appended.id);
  };
  /** A TCP proxy to NATS that can go down (connections cut, the port refused) and come back on the same port. */
  const natsProxy = async () => {
    const sockets = new Set<Socket>();
    let connections = 0;
    let server: Server | null = null;
    let port = 0;
    const up = () =>
      new Promise<void>((resolve) => {
        server = createServer((inbound) => {
          connections++;
          const outbound = createConnection(4222, '127.0.0.1');
          for (const socket of [inbound, outbound]) {
            sockets.add(socket);
            socket.on('error', () => undefined);
            socket.on('close', () => (sockets.delete(socket), inbound.destroy(), outbound.destroy()));
          }
          inbound.pipe(outbound).pipe(inbound);
        });
        server.listen(port, '127.0.0.1', () => {
          port = (server!.address() as { port: number }).port;
          resolve();
        });
      });
    const down = async () => {
      for (const socket of sockets) socket.destroy();
      sockets.clear();
      await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
      server = null;
    };
    await up();
    const open = () => sockets.size / 2;
    return { url: () => `nats://127.0.0.1:${port}`, up, down, connections: () => connections, open };
  };
  /** What the stream holds on this test's subject, in order, read by an ordered consumer. */
  const stored = async (on = subject) => {
    const messages: { id: string | undefined; body: string }[] = [];
    const consumer = await js().consumers.get(stream, { filterSubjects: on });
    const fetched = await consumer.fetch({ max_messages: 100, expires: 1000 });
    for await (const message of fetched) {
      messages.push({ id: message.headers?.get('Nats-Msg-Id'), body: message.string() });
      if (message.info.pending === 0) break;
    }
    return messages;
  };
  const js = () => nc.jetstream();
  const countOf = async (on = subject) => {
    const info = await jsm.streams.info(stream, { subjects_filter: on }).catch(() => null);
    return info?.state.subjects?.[on] ?? 0;
  };

  it('publishes the configured types only, in log order, msgID the event id, the clear part only', async () => {
    await configureSubscriber(ledger, 'warehouse', { kind: 'nats', subject });
    const p = person();
    const [, consent, restricted] = await publishFor(p);
    start();
    await until(async () => (await countOf()) === 2, 'two messages in the stream');
    const messages = await stored();
    expect(messages.map(({ id }) => id)).to.deep.equal([consent, restricted]);
    const message = JSON.parse(messages[0]!.body);
    expect(message).to.deep.include({ id: consent, type: 'ConsentGiven', contactId: p.contactId });
    expect(Object.keys(message).sort()).to.deep.equal(
      ['contactId', 'data', 'id', 'occurredAt', 'organizationId', 'position', 'type'].sort(),
    );
    expect(message.data).to.deep.include({ purpose: 'newsletter' }).and.not.have.property('ipAddress');
    expect(messages.map(({ body }) => body).join('\n')).to.not.include(p.ip);
    expect((await jsm.streams.info(stream)).config.subjects).to.include(subject);
    await until(async () => (await listSubscribers(ledger))[0]!.delivery.lag === 0, 'the checkpoint at the head');
  });

  it("with many publishes in flight, stores each contact's messages in log order", async () => {
    await configureSubscriber(ledger, 'warehouse', { kind: 'nats', subject });
    const people = Array.from({ length: 10 }, () => person());
    await publish(ledger, { events: people.map((p) => registered(p)) });
    // Each contact restricted and lifted in turn, the contacts interleaved: 40 messages, 4 a contact.
    const events = [0, 1, 2, 3].flatMap((round) =>
      people.map((p) => ({
        type: round % 2 === 0 ? 'ProcessingRestricted' : 'RestrictionLifted',
        contactId: p.contactId,
        organizationId: 'ORG-A',
        occurredAt: new Date(Date.UTC(2024, 1, 1, 10, round)).toISOString(),
        data: { reason: 'objection' },
      })),
    );
    await publish(ledger, { events });
    start({ natsInFlight: 16, pageSize: 50 });
    await until(async () => (await countOf()) === 40, 'the 40 messages stored');
    const messages = (await stored()).map(({ body }) => JSON.parse(body) as { contactId: string; position: number });
    for (const p of people) {
      const positions = messages.filter((message) => message.contactId === p.contactId).map((m) => m.position);
      expect(positions, p.contactId).to.have.length(4);
      expect(positions, p.contactId).to.deep.equal([...positions].sort((a, b) => a - b));
    }
  });

  it('the same message published twice is stored once (JetStream de-duplicates by the event id)', async () => {
    await configureSubscriber(ledger, 'warehouse', { kind: 'nats', subject });
    const [, consent] = await publishFor(person());
    start();
    await until(async () => (await countOf()) === 2, 'two messages in the stream');
    const subscriber = (await readSubscribers(ledger.store)).get('warehouse')!;
    if (subscriber.kind !== 'nats') throw new Error('a nats subscriber');
    const sender = new NatsSender({ url: DEFAULT_NATS_URL, stream });
    try {
      const message = JSON.parse((await stored())[0]!.body);
      const options = { timeoutMs: 5_000, signal: new AbortController().signal, now: () => new Date() };
      expect(await sender.send(subscriber, message, options)).to.deep.equal({ ok: true });
      expect(await sender.send(subscriber, message, options)).to.deep.equal({ ok: true });
    } finally {
      await sender.close();
    }
    expect(await countOf()).to.equal(2);
    expect((await stored()).filter(({ id }) => id === consent)).to.have.length(1);
  });

  it('a NATS that is not there is retried, then the message is a dead letter, never a crash', async () => {
    await configureSubscriber(ledger, 'warehouse', { kind: 'nats', subject });
    const letters: DeadLetter[] = [];
    const errors: unknown[] = [];
    const published = await publishFor(person());
    start({
      natsUrl: 'nats://127.0.0.1:1',
      onDeadLetter: (letter) => letters.push(letter),
      onError: (error) => errors.push(error),
    });
    await until(() => letters.length === 2, 'two dead letters');
    expect(letters.map((letter) => [letter.name, letter.eventId, letter.attempts, letter.error])).to.deep.equal([
      ['warehouse', published[1], 4, 'CONNECTION_REFUSED'],
      ['warehouse', published[2], 4, 'CONNECTION_REFUSED'],
    ]);
    expect(errors).to.deep.equal([]);
    expect((await listSubscribers(ledger))[0]!.delivery.deadLetters).to.equal(2);
  });

  it('a NATS down is retried, at the start or later, and the messages go once it is back, in log order', async () => {
    await configureSubscriber(ledger, 'warehouse', { kind: 'nats', subject });
    const proxy = await natsProxy();
    try {
      await proxy.down();
      const letters: DeadLetter[] = [];
      const first = await publishFor(person());
      start({
        natsUrl: proxy.url(),
        maxAttempts: 1000,
        timeoutMs: 500,
        onDeadLetter: (letter) => letters.push(letter),
      });
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(await countOf()).to.equal(0);
      await proxy.up();
      await until(async () => (await countOf()) === 2, 'the first messages once NATS is up');
      await proxy.down();
      const next = await publishFor(person());
      await new Promise((resolve) => setTimeout(resolve, 300));
      await proxy.up();
      await until(async () => (await countOf()) === 4, 'the next messages once NATS is back');
      expect((await stored()).map(({ id }) => id)).to.deep.equal([first[1], first[2], next[1], next[2]]);
      expect(letters).to.deep.equal([]);
    } finally {
      await runner?.stop();
      runner = null;
      await proxy.down();
    }
  });

  it('connects to NATS only once a nats subscriber is configured, and lets go of it on stop', async () => {
    const proxy = await natsProxy();
    try {
      await publishFor(person());
      start({ natsUrl: proxy.url() });
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(proxy.connections()).to.equal(0);
      await configureSubscriber(ledger, 'warehouse', { kind: 'nats', subject });
      await until(async () => (await countOf()) === 2, 'the messages');
      expect(proxy.connections()).to.equal(1);
      await runner!.stop();
      runner = null;
      await until(() => proxy.open() === 0, 'the connection closed');
    } finally {
      await proxy.down();
    }
  });

  it('a message being retried goes to the new subject once the subscriber is configured with one', async () => {
    await configureSubscriber(ledger, 'warehouse', { kind: 'nats', subject });
    const proxy = await natsProxy();
    try {
      await proxy.down();
      const published = await publishFor(person());
      start({ natsUrl: proxy.url(), maxAttempts: 1000, timeoutMs: 500 });
      await new Promise((resolve) => setTimeout(resolve, 200));
      const moved = `${subject}.moved`;
      await configureSubscriber(ledger, 'warehouse', { kind: 'nats', subject: moved });
      await new Promise((resolve) => setTimeout(resolve, 200));
      await proxy.up();
      await until(async () => (await countOf(moved)) === 2, 'the messages on the new subject');
      expect((await stored(moved)).map(({ id }) => id)).to.deep.equal([published[1], published[2]]);
      expect(await countOf()).to.equal(0);
    } finally {
      await runner?.stop();
      runner = null;
      await proxy.down();
    }
  });
});
