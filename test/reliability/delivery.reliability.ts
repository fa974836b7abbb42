import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { copyFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect } from 'nats';
import { v7 as uuidv7 } from 'uuid';
import { startServer, type RunningServer } from '../support/server.js';
import { tempDataDir } from '../support/ledger.js';
import { startReceiver, until } from '../support/receiver.js';
import { DEFAULT_NATS_URL } from '../../src/config.js';
import { verifyWebhook } from '../../src/crypto/webhook-signature.js';
import { DEFAULT_SUBSCRIBED_TYPES } from '../../src/domain/subscribers.js';

/**
 * Delivery to subscribers under faults (issue 27, "Must show"), on a real `serve` and a real data
 * folder: a webhook receiver refusing connections, then answering 503, then up; one down past its
 * attempts (a long outage: dead letters an admin replays); the ledger killed (SIGKILL) while it
 * delivers, to a webhook and to NATS JetStream. What the issue promises is checked, not how fast:
 * every event of a subscribed type in the log arrives (duplicates allowed, none missing), each
 * webhook signed with the secret the PUT answered, and a contact's events first arrive in log order.
 */

/** Short retry waits: an outage of seconds stands for one of minutes. */
const FAST_RETRIES = { LEDGER_DELIVERY_BACKOFF_MS: '10', LEDGER_DELIVERY_MAX_BACKOFF_MS: '200' };

/** An event of the log as the audit route gives it (a contact's events are its stream's). */
interface Logged {
  id: string;
  type: string;
  stream: string;
  position: number;
}

class Ledger {
  server: RunningServer | null = null;
  adminKey = '';
  private readonly data;
  /** The data folder. */
  get dir(): string {
    return this.data.dir;
  }

  constructor(
    store: string,
    private readonly env: NodeJS.ProcessEnv,
  ) {
    this.data = tempDataDir(store);
  }

  async start(): Promise<void> {
    this.server = await startServer({ ...this.data.env, ...this.env });
    this.adminKey ||= this.server.adminKey!;
  }

  /** Calls the API as the admin; the answer's body, once its status is the one expected. */
  async expectCall(method: string, path: string, body: unknown, status: number): Promise<any> {
    const response = await fetch(`${this.server!.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.adminKey}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    expect(response.status, `${method} ${path}: ${text}`).to.equal(status);
    return JSON.parse(text);
  }

  /** The events of the types subscribed to by default, in log order. */
  async subscribed(): Promise<Logged[]> {
    const response = await fetch(`${this.server!.url}/v1/audit/events?from=0&limit=1000000`, {
      headers: { authorization: `Bearer ${this.adminKey}` },
    });
    const records = (await response.text())
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Logged);
    const types: readonly string[] = DEFAULT_SUBSCRIBED_TYPES;
    return records.filter((record) => types.includes(record.type));
  }

  async remove(): Promise<void> {
    await this.server?.stop();
    await this.data.remove();
  }
}

/**
 * `contacts` contacts, each registered, then consent given and withdrawn and processing restricted
 * and lifted in turns (`changes` events of subscribed types), interleaved across contacts in
 * batches of 1000; then every tenth contact forgotten through an erasure request.
 */
async function publishDecisions(ledger: Ledger, contactIds: string[], changes: number): Promise<void> {
  const cycle = [
    {
      type: 'ConsentGiven',
      data: { purpose: 'newsletter', source: 'portal', wordingVersion: 'v3', preChecked: false },
    },
    { type: 'ConsentWithdrawn', data: { purpose: 'newsletter', source: 'portal' } },
    { type: 'ProcessingRestricted', data: { reason: 'objection' } },
    { type: 'RestrictionLifted', data: { reason: 'objection' } },
  ];
  const envelope = (contactId: string, event: { type: string; data: object }) => ({
    id: uuidv7(),
    contactId,
    organizationId: 'ORG-A',
    occurredAt: '2025-01-01T10:00:00Z',
    ...event,
  });
  const events = [];
  for (let step = -1; step < changes; step++) {
    for (const contactId of contactIds) {
      const event = step < 0 ? { type: 'ContactRegistered', data: { role: 'individual' } } : cycle[step % 4]!;
      events.push(envelope(contactId, event));
    }
  }
  for (let from = 0; from < events.length; from += 1000) {
    await ledger.expectCall('POST', '/v1/events', { events: events.slice(from, from + 1000) }, 201);
  }
  for (const contactId of contactIds.filter((_, index) => index % 10 === 0)) {
    const request = await ledger.expectCall('POST', '/v1/erasure-requests', { contactId, channel: 'email' }, 201);
    await ledger.expectCall('POST', `/v1/erasure-requests/${request.requestId}/execute`, {}, 200);
  }
}

const newContacts = (count: number) => Array.from({ length: count }, () => `C-${randomBytes(6).toString('hex')}`);

/**
 * What a list of arrivals (event ids, duplicates allowed) lacks of the log's events, and the
 * contacts whose events first arrived out of log order.
 */
function check(logged: Logged[], arrivals: (string | undefined)[]) {
  const arrived = new Set(arrivals);
  const missing = logged.filter((event) => !arrived.has(event.id)).map((event) => event.id);
  const byId = new Map(logged.map((event) => [event.id, event]));
  const last = new Map<string, number>();
  const outOfOrder = new Set<string>();
  const seen = new Set<string>();
  for (const id of arrivals) {
    const event = id === undefined ? undefined : byId.get(id);
    if (!event || seen.has(event.id)) continue;
    seen.add(event.id);
    if ((last.get(event.stream) ?? -1) > event.position) outOfOrder.add(event.stream);
    last.set(event.stream, event.position);
  }
  return { missing, outOfOrder: [...outOfOrder], duplicates: arrivals.length - seen.size };
}

type Receiver = Awaited<ReturnType<typeof startReceiver>>;

/**
 * The webhook ids a receiver took, in order, each checked once (signed with the secret, the
 * body's id the webhook-id): polled while waiting, so it looks at what is new only.
 */
function webhookArrivals(receiver: Receiver, secret: string) {
  const ids: string[] = [];
  const unsigned: string[] = [];
  return (): { ids: string[]; unsigned: string[] } => {
    for (const { headers, body } of receiver.received.slice(ids.length)) {
      const id = headers['webhook-id'] as string;
      const signed = verifyWebhook(secret, headers, body, new Date());
      if (!signed || (JSON.parse(body) as { id: string }).id !== id) unsigned.push(id);
      ids.push(id);
    }
    return { ids, unsigned };
  };
}

/** Waits until every logged event is among the arrivals; else says how many are missing. */
const allArrived = async (logged: Logged[], arrivals: () => (string | undefined)[], what: string, ms = 40_000) => {
  const pending = new Set(logged.map((event) => event.id));
  let read = 0;
  const arrived = () => {
    const ids = arrivals();
    for (; read < ids.length; read++) pending.delete(ids[read]!);
    return pending.size === 0;
  };
  await until(arrived, what, ms).catch((error: Error) => {
    throw new Error(`${error.message}: ${pending.size} of ${logged.length} missing`);
  });
};

for (const store of ['sqlite', 'postgres']) {
  describe(`delivery to subscribers under faults (${store})`, function () {
    this.timeout(60_000);
    let receiver: Receiver;
    let ledger: Ledger;
    beforeEach(async () => (receiver = await startReceiver()));
    afterEach(async () => {
      await receiver.close();
      await ledger.remove();
    });

    /** A ledger with a webhook subscriber: the arrivals at its receiver. */
    const configure = async (env: NodeJS.ProcessEnv) => {
      ledger = new Ledger(store, env);
      await ledger.start();
      await ledger.expectCall('PUT', '/v1/purposes/newsletter', { kind: 'consent', channel: 'email' }, 200);
      const hook = await ledger.expectCall('PUT', '/v1/subscribers/crm', { kind: 'webhook', url: receiver.url }, 201);
      return webhookArrivals(receiver, hook.secret as string);
    };

    /** Waits until every event reached the webhook, each signed; none first arrived out of its contact's order. */
    const everyEventArrives = async (logged: Logged[], arrivals: ReturnType<typeof webhookArrivals>) => {
      await allArrived(logged, () => arrivals().ids, 'every event at the webhook');
      const { ids, unsigned } = arrivals();
      expect(unsigned, 'messages not signed with the secret').to.deep.equal([]);
      const result = check(logged, ids);
      expect(result.outOfOrder, 'contacts whose events first arrived out of log order').to.deep.equal([]);
      return result;
    };

    it('a receiver refusing connections, then 503, then flapping: every event arrives, in order', async () => {
      await receiver.down();
      const arrivals = await configure({ ...FAST_RETRIES, LEDGER_DELIVERY_ATTEMPTS: '1000' });
      await publishDecisions(ledger, newContacts(200), 10);
      const logged = await ledger.subscribed();
      expect(logged.length).to.be.at.least(2000);
      expect(new Set(logged.map((event) => event.stream)).size, 'contacts').to.equal(200);
      await sleep(1000);
      receiver.status = 503;
      await receiver.up();
      await until(() => receiver.attempts >= 5, 'attempts answered 503');
      await sleep(1000);
      expect(receiver.received).to.have.length(0);
      // Back, yet flapping for its first seconds: a 503 now and then, connections refused now and then.
      const back = Date.now();
      for (let tick = 0; tick < 20; tick++) {
        receiver.status = Math.random() < 0.3 ? 503 : 200;
        await sleep(100);
        if (tick % 7 === 3) await receiver.down().then(() => sleep(100).then(receiver.up));
      }
      receiver.status = 200;
      const { duplicates } = await everyEventArrives(logged, arrivals);
      console.log(
        `      ${logged.length} events delivered ${Date.now() - back} ms after the receiver came back (${
          receiver.attempts
        } attempts answered, ${duplicates} duplicates)`,
      );
      const subscribers = await ledger.expectCall('GET', '/v1/subscribers', undefined, 200);
      expect(subscribers.items[0].delivery.deadLetters).to.equal(0);
    });

    it('a receiver down past the attempts (a long outage): dead letters, all delivered once replayed', async () => {
      await receiver.down();
      const arrivals = await configure({
        ...FAST_RETRIES,
        LEDGER_DELIVERY_BACKOFF_MS: '1',
        LEDGER_DELIVERY_ATTEMPTS: '2',
      });
      await publishDecisions(ledger, newContacts(30), 10);
      const logged = await ledger.subscribed();
      // Counted from the subscribers' list: the dead letters themselves are listed once, at the end.
      const deadLetters = async () =>
        (await ledger.expectCall('GET', '/v1/subscribers', undefined, 200)).items[0].delivery.deadLetters as number;
      await until(async () => (await deadLetters()) === logged.length, 'every message a dead letter', 40_000);
      await receiver.up();
      const replay = await ledger.expectCall('POST', '/v1/subscribers/crm/dead-letters/replay', {}, 202);
      expect(replay.replaying).to.equal(logged.length);
      await everyEventArrives(logged, arrivals);
      await until(async () => (await deadLetters()) === 0, 'the dead letters settled');
      expect((await ledger.expectCall('GET', '/v1/subscribers/crm/dead-letters', undefined, 200)).items).to.deep.equal(
        [],
      );
    });

    it('the ledger killed while it delivers, three times: every event reaches the webhook and NATS', async () => {
      const run = randomBytes(4).toString('hex');
      const stream = `LEDGER_RELIABILITY_${run}`;
      const subject = `ledger.reliability.${run}`;
      receiver.delayMs = () => 1; // a slow receiver: the kills come mid-delivery
      const arrivals = await configure({
        ...FAST_RETRIES,
        LEDGER_DELIVERY_ATTEMPTS: '1000',
        LEDGER_NATS_STREAM: stream,
      });
      await ledger.expectCall('PUT', '/v1/subscribers/warehouse', { kind: 'nats', subject }, 201);
      const nc = await connect({ servers: DEFAULT_NATS_URL });
      const jsm = await nc.jetstreamManager();
      const inStream = async () => (await jsm.streams.info(stream).catch(() => null))?.state.messages ?? 0;
      try {
        const atKills: string[] = [];
        for (let round = 0; round < 3; round++) {
          if (round > 0) await ledger.start();
          const before = receiver.received.length;
          await publishDecisions(ledger, newContacts(60), 7);
          const target = before + 50 + Math.floor(Math.random() * 300);
          await until(() => receiver.received.length >= target, 'deliveries before the kill');
          await ledger.server!.kill('SIGKILL');
          atKills.push(`${receiver.received.length} at the webhook, ${await inStream()} in the stream`);
        }
        await ledger.start();
        const logged = await ledger.subscribed();
        const webhook = await everyEventArrives(logged, arrivals);

        await until(async () => (await inStream()) >= logged.length, 'every event in the stream', 40_000);
        const ids: (string | undefined)[] = [];
        const consumer = await nc.jetstream().consumers.get(stream);
        for await (const message of await consumer.fetch({ max_messages: logged.length * 2, expires: 2000 })) {
          ids.push(message.headers?.get('Nats-Msg-Id'));
          if (message.info.pending === 0) break;
        }
        const nats = check(logged, ids);
        expect(nats.missing, 'events missing from the stream').to.deep.equal([]);
        expect(nats.outOfOrder, 'contacts whose events are out of order in the stream').to.deep.equal([]);
        console.log(
          `      ${logged.length} events; at the kills: ${atKills.join('; ')}; ${
            webhook.duplicates
          } duplicates at the webhook`,
        );
      } finally {
        await jsm.streams.delete(stream).catch(() => undefined);
        await nc.close();
      }
    });
  });
}

/**
 * events.db restored from an older copy beside a state.db whose subscriber checkpoint is further
 * (a backup of the log alone, as restore.reliability.ts makes): what is published after the
 * restore lands at positions the checkpoint had passed, and must reach the subscriber all the same.
 */
describe('delivery after a log restored from an older copy', function () {
  this.timeout(60_000);
  let receiver: Receiver;
  let ledger: Ledger;
  before(async () => (receiver = await startReceiver()));
  after(async () => {
    await receiver.close();
    await ledger.remove();
  });

  it('delivers what is appended after the restore, at positions its checkpoint had passed', async () => {
    ledger = new Ledger('sqlite', { ...FAST_RETRIES, LEDGER_DELIVERY_ATTEMPTS: '1000' });
    await ledger.start();
    await ledger.expectCall('PUT', '/v1/purposes/newsletter', { kind: 'consent', channel: 'email' }, 200);
    const hook = await ledger.expectCall('PUT', '/v1/subscribers/crm', { kind: 'webhook', url: receiver.url }, 201);
    const arrivals = webhookArrivals(receiver, hook.secret as string);
    /** Publishes, then waits until the subscriber has it all and its checkpoint is at the head. */
    const publishDelivered = async (contacts: number) => {
      await publishDecisions(ledger, newContacts(contacts), 4);
      await allArrived(await ledger.subscribed(), () => arrivals().ids, 'every event at the webhook');
      await until(async () => {
        const [crm] = (await ledger.expectCall('GET', '/v1/subscribers', undefined, 200)).items;
        return crm.delivery.lag === 0;
      }, 'the checkpoint at the head');
    };
    await publishDelivered(10);
    const backedUp = new Set((await ledger.subscribed()).map((event) => event.id));
    await ledger.server!.stop();
    copyFileSync(join(ledger.dir, 'events.db'), join(ledger.dir, 'events.backup.db'));
    await ledger.start();
    await publishDelivered(20);
    await ledger.server!.stop();
    for (const suffix of ['', '-wal', '-shm']) rmSync(join(ledger.dir, `events.db${suffix}`), { force: true });
    copyFileSync(join(ledger.dir, 'events.backup.db'), join(ledger.dir, 'events.db'));

    // Appended after the restore: the forgettings the journal appends again at the start, then new decisions.
    await ledger.start();
    await publishDecisions(ledger, newContacts(10), 4);
    const after = (await ledger.subscribed()).filter((event) => !backedUp.has(event.id));
    expect(
      after.map((event) => event.type).filter((type) => type === 'ContactAnonymized' || type === 'ContactErased'),
    ).to.have.length(2 + 1);
    expect(after).to.have.length(2 + 41);
    await allArrived(after, () => arrivals().ids, 'what was appended after the restore', 15_000);
    expect(arrivals().unsigned).to.deep.equal([]);
  });
});
