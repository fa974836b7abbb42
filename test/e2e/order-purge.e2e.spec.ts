import { expect } from 'chai';
import { openTestLedger, type TestLedger } from '../support/ledger.js';
import { storedContaining } from '../support/stored.js';
import { person, registered, type Person } from '../support/events.js';
import { publish } from '../../src/app/publish.js';
import { runInactiveBatch } from '../../src/app/inactive-contacts-batch.js';
import { contactTimeline } from '../../src/app/contact-timeline.js';
import { contactView } from '../../src/app/contact-view.js';
import { exportContact } from '../../src/app/export-contact.js';
import type { OpenedEvent } from '../../src/app/sealing.js';

/**
 * The order purge per ticket through the real ledger (ticketing-gdpr-features-v2.en.txt,
 * "Removing a prospect / anonymizing a contact"): 36 months as of 2026-11-30, so a ticket ended
 * before 2023-11-30 is purged: its beneficiary but the country, its address and e-mail answers;
 * text answers stay; the buyer IP stays while a ticket of the order is valid.
 */
describe('order purge per ticket (batch applied, keys shredded, views and files)', function () {
  this.timeout(60_000);
  const AS_OF = new Date('2026-11-30T00:00:00Z');
  let ledger: TestLedger;
  const buyer = person();
  const held = person();
  const ended = { name: `Ended${buyer.lastName}`, email: `ended.${buyer.email}`, street: `9 allée ${buyer.lastName}` };
  const valid = { name: `Valid${buyer.lastName}`, email: `valid.${buyer.email}` };
  const textAnswer = `Wheelchair seat ${buyer.lastName}`;
  const heldGuest = `guest.${held.email}`;

  const sale = (p: Person, ticketId: string, product: object, beneficiary: object, extra: object = {}) => ({
    type: 'TicketSold',
    contactId: p.contactId,
    organizationId: 'ORG-A',
    occurredAt: '2022-01-10T10:00:00Z',
    data: { orderId: `O-${p.contactId}`, ticketId, product, beneficiary, ipAddress: p.ip, ...extra },
  });
  const ticket = (timeline: OpenedEvent[], ticketId: string) =>
    timeline.find((event) => event.type === 'TicketSold' && event.data['ticketId'] === ticketId)!;

  before(async () => {
    ledger = await openTestLedger();
    const recent = '2026-10-01T10:00:00Z'; // the buyers stay active (a waiting list): only orders are at stake
    await publish(ledger, {
      events: [
        registered(buyer, recent),
        sale(
          buyer,
          'T-ended',
          { kind: 'dated', validUntil: '2022-06-01T20:00:00Z' },
          { firstName: ended.name, email: ended.email, address: { street: ended.street, country: 'BE' } },
          {
            answers: [
              { questionType: 'text', value: textAnswer },
              { questionType: 'email', value: `answer.${ended.email}` },
              { questionType: 'address', value: `answer ${ended.street}` },
            ],
          },
        ),
        sale(buyer, 'T-valid', { kind: 'dated', validUntil: '2025-06-01T20:00:00Z' }, { firstName: valid.name }),
        sale(buyer, 'T-undated', { kind: 'undated' }, { firstName: `Undated${buyer.lastName}`, email: valid.email }),
        registered(held, recent),
        { ...registered(held, recent), type: 'LegalHoldPlaced', data: { reason: 'litigation' } },
        sale(held, 'T-held', { kind: 'undated' }, { email: heldGuest }),
        ...[buyer, held].map((p) => ({
          ...registered(p, recent),
          type: 'WaitingListJoined',
          data: { productId: 'P-1' },
        })),
      ],
    });
  });
  after(() => ledger?.dispose());

  it('purges the ended and the undated tickets of a mixed order; a held buyer is reported, untouched', async () => {
    await ledger.runner.catchUp();
    const simulation = await runInactiveBatch(ledger, { asOf: AS_OF });
    const { report, forgotten } = await runInactiveBatch(ledger, { asOf: AS_OF, apply: true });
    expect(report.counts).to.deep.equal(simulation.report.counts);
    expect(report.ordersPurged).to.deep.equal([`O-${buyer.contactId}`]);
    expect(report.contacts).to.deep.include({ purgeSkippedLegalHold: [held.contactId] });
    expect(forgotten.map((event) => event.data['ticketId'])).to.have.members(['T-ended', 'T-undated']);
    await ledger.shredder.shredAll(forgotten);
  });

  it("the ended ticket's beneficiary is gone but the country; the valid ticket and the IP are readable", async () => {
    const timeline = await contactTimeline(ledger, buyer.contactId);
    expect(ticket(timeline, 'T-ended').personal).to.equal('erased');
    expect(ticket(timeline, 'T-undated').personal).to.equal('erased');
    expect(ticket(timeline, 'T-valid').personal).to.equal('open');
    expect(ticket(timeline, 'T-valid').data).to.deep.include({ ipAddress: buyer.ip });
    expect(JSON.stringify(ticket(timeline, 'T-valid').data)).to.contain(valid.name);
    const purge = timeline.find((event) => event.type === 'OrderDataPurged' && event.data['ticketId'] === 'T-ended')!;
    expect(purge.data).to.deep.include({ retained: { beneficiaryCountry: 'BE' }, orderEnded: false });
    expect(ticket(timeline, 'T-ended').erasedBy).to.equal(purge.id);
    expect((await contactView(ledger, buyer.contactId)).status).to.equal('active');
  });

  it('text answers stay readable (carried by the purge); address and e-mail answers are gone', async () => {
    const exported = JSON.stringify(await exportContact(ledger, buyer.contactId));
    expect(exported).to.contain(textAnswer);
    expect(exported).not.to.contain(ended.email).and.not.to.contain(ended.street).and.not.to.contain(ended.name);
    const purge = (await contactTimeline(ledger, buyer.contactId)).find((e) => e.type === 'OrderDataPurged')!;
    expect(purge.data['answers']).to.deep.equal([{ questionType: 'text', value: textAnswer }]);
  });

  it('no data file holds a purged beneficiary e-mail; the held buyer keeps theirs', async () => {
    expect(await storedContaining(ledger, [ended.email, `answer.${ended.email}`], { skipKeys: true })).to.deep.equal(
      [],
    );
    const timeline = await contactTimeline(ledger, held.contactId);
    expect(ticket(timeline, 'T-held').data['beneficiary']).to.deep.equal({ email: heldGuest });
  });

  it('the last ticket purged closes the order: the buyer IP goes with it', async () => {
    const later = { asOf: AS_OF, inactivityMonths: 12, apply: true }; // the valid ticket ended since
    const { forgotten } = await runInactiveBatch(ledger, later);
    expect(forgotten.map((event) => [event.data['ticketId'], event.data['orderEnded']])).to.deep.equal([
      ['T-valid', true],
    ]);
    await ledger.shredder.shredAll(forgotten);
    const timeline = await contactTimeline(ledger, buyer.contactId);
    expect(timeline.filter((event) => event.type === 'TicketSold').map((event) => event.personal)).to.deep.equal([
      'erased',
      'erased',
      'erased',
    ]);
    expect(JSON.stringify(await exportContact(ledger, buyer.contactId))).not.to.contain(buyer.ip);
    expect(JSON.stringify(timeline)).to.contain(textAnswer);
  });
});
