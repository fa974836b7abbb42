import { expect } from 'chai';
import { openTestLedger, type TestLedger } from '../support/ledger.js';
import { startReceiver, until, type Received } from '../support/receiver.js';
import { configureTestPurposes, person, registered, type Person } from '../support/events.js';
import { publish } from '../../src/app/publish.js';
import { configureSubscriber, listSubscribers, readSubscribers } from '../../src/app/subscribers.js';
import { DeliveryRunner, type DeliveryOptions } from '../../src/jobs/delivery.js';

/**
 * Several messages of a subscriber in flight at once (issue 27: "8 in flight"), yet "in log order
 * per contact": a contact's messages never overlap nor pass one another, whatever the receiver's
 * answer times; the checkpoint never passes a message not yet settled.
 */
describe('delivery with messages in flight', function () {
  this.timeout(60_000);
  let ledger: TestLedger;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let runner: DeliveryRunner | null = null;
  const fast: DeliveryOptions = { pollMs: 20, baseDelayMs: 5, maxDelayMs: 20, maxAttempts: 1000, pageSize: 50 };
  beforeEach(async () => {
    ledger = await openTestLedger();
    await configureTestPurposes(ledger);
    receiver = await startReceiver();
    await configureSubscriber(ledger, 'crm', { kind: 'webhook', url: receiver.url });
  });
  afterEach(async () => {
    await runner?.stop();
    runner = null;
    await receiver.close();
    await ledger.dispose();
  });
  const start = (options: DeliveryOptions) => (runner = new DeliveryRunner(ledger, { ...fast, ...options }).start());
  /** A contact's restrictions, restricted and lifted in turn: `count` messages, in log order. */
  const restrictions = (p: Person, count: number) =>
    Array.from({ length: count }, (_, i) => ({
      type: i % 2 === 0 ? 'ProcessingRestricted' : 'RestrictionLifted',
      contactId: p.contactId,
      organizationId: 'ORG-A',
      occurredAt: new Date(Date.UTC(2024, 1, 1, 10, i)).toISOString(),
      data: { reason: 'objection' },
    }));
  /** `contacts` contacts of `each` messages, published interleaved (contact by contact, round after round). */
  const publishInterleaved = async (contacts: number, each: number) => {
    const people = Array.from({ length: contacts }, () => person());
    await publish(ledger, { events: people.map((p) => registered(p)) });
    const rows = people.map((p) => restrictions(p, each));
    const events = Array.from({ length: each }, (_, i) => rows.map((row) => row[i]!)).flat();
    const { appended } = await publish(ledger, { events });
    return appended.length;
  };
  type Sent = { contactId: string; position: number; arrivedAt: number; answeredAt: number };
  /** The messages received, by contact, in the order received. */
  const byContact = (received: Received[]) => {
    const contacts = new Map<string, Sent[]>();
    for (const { body, arrivedAt, answeredAt } of received) {
      const { contactId, position } = JSON.parse(body) as Sent;
      contacts.set(contactId, [...(contacts.get(contactId) ?? []), { contactId, position, arrivedAt, answeredAt }]);
    }
    return contacts;
  };
  const elapsedFor = async (inFlight: number, total: number) => {
    const began = Date.now();
    start({ inFlight });
    await until(() => receiver.received.length === total, `${total} messages`);
    const elapsed = Date.now() - began;
    await runner!.stop();
    runner = null;
    return elapsed;
  };

  it("keeps each contact's messages in log order, one at a time, while a slow receiver answers several", async () => {
    const total = await publishInterleaved(12, 6);
    receiver.delayMs = () => Math.floor(Math.random() * 40);
    // A few failures too: a retried message holds up its contact's next ones, not the others.
    let answers = 0;
    receiver.statusOf = () => (++answers % 7 === 0 ? 503 : 200);
    start({ inFlight: 8 });
    await until(() => new Set(receiver.received.map(({ headers }) => headers['webhook-id'])).size === total, 'all');
    expect(receiver.mostOpen).to.be.within(2, 8);
    const contacts = byContact(receiver.received);
    expect(contacts.size).to.equal(12);
    for (const [contact, sent] of contacts) {
      expect(
        sent.map((message) => message.position),
        contact,
      ).to.deep.equal([...sent.map((message) => message.position)].sort((a, b) => a - b));
      for (let i = 1; i < sent.length; i++) expect(sent[i]!.arrivedAt).to.be.at.least(sent[i - 1]!.answeredAt);
    }
    await until(async () => (await listSubscribers(ledger))[0]!.delivery.lag === 0, 'the checkpoint at the head');
  });

  it('the checkpoint stays before a message being retried while later ones are delivered', async () => {
    const stuck = person();
    const { appended } = await publish(ledger, { events: [registered(stuck), ...restrictions(stuck, 1)] });
    const stuckPosition = appended[1]!.position;
    const others = await publishInterleaved(10, 2);
    let released = false;
    receiver.statusOf = (body) => (!released && JSON.parse(body).contactId === stuck.contactId ? 503 : 200);
    start({ inFlight: 4 });
    await until(() => receiver.received.length === others, "the other contacts' messages");
    const [crm] = await listSubscribers(ledger);
    expect(crm!.delivery.position).to.be.below(stuckPosition);
    released = true;
    await until(async () => (await listSubscribers(ledger))[0]!.delivery.lag === 0, 'the checkpoint at the head');
    expect(receiver.received.at(-1)!.headers['webhook-id']).to.equal(appended[1]!.id);
  });

  it('sends faster with 8 in flight than one at a time, to a receiver taking 20 ms an answer', async () => {
    const total = await publishInterleaved(16, 4);
    receiver.delayMs = () => 20;
    const one = await elapsedFor(1, total);
    receiver.received.length = 0;
    const { since } = (await readSubscribers(ledger.store)).get('crm')!;
    await ledger.readModels.delivery.advanceDelivery(since, 'crm', 0, []); // the same log again
    const eight = await elapsedFor(8, total);
    expect(eight, `${eight} ms with 8, ${one} ms with 1`).to.be.below(one / 3);
  });
});
