import { expect } from 'chai';
import { openTestLedger, type TestLedger } from '../support/ledger.js';
import { editReadModels } from '../support/stored.js';
import { person, registered, type Person, configureTestPurposes } from '../support/events.js';
import { publish } from '../../src/app/publish.js';
import { runInactiveBatch, type InactiveBatchReport } from '../../src/app/inactive-contacts-batch.js';
import { contactView } from '../../src/app/contact-view.js';
import { contactTimeline } from '../../src/app/contact-timeline.js';
import { inactivityCutoff } from '../../src/domain/inactive-contacts.js';

const AS_OF = new Date('2026-11-30T00:00:00Z');
const OLD = '2020-03-01T10:00:00Z';

/** An upstream envelope of a person's stream. */
const event = (p: Person, type: string, data: Record<string, unknown>, occurredAt = OLD) => ({
  type,
  contactId: p.contactId,
  organizationId: 'ORG-A',
  occurredAt,
  data,
});
const sale = (p: Person, orderId: string, validUntil: string, extra: Record<string, unknown> = {}) =>
  event(p, 'TicketSold', { orderId, product: { kind: 'dated', validUntil }, ipAddress: p.ip, ...extra });
const withRole = (p: Person, role: string) => {
  const envelope = registered(p, '2019-05-01T09:00:00Z');
  return { ...envelope, data: { ...envelope.data, role } };
};

/**
 * The inactive-contact batch on a small institution whose every outcome is known beforehand
 * (DESIGN.md "Forgetting"; the expected classes are written here by hand, not computed by the
 * batch's code): 36 months as of 2026-11-30, so recency before 2023-11-30 is inactive.
 */
describe('inactive-contact batch (simulation, application, the log decides)', function () {
  this.timeout(60_000);
  let ledger: TestLedger;
  const people = {
    prospect: person(),
    customer: person(),
    recentCustomer: person(),
    debtor: person(),
    held: person(),
    structure: person(),
    relay: person(),
    recentBeneficiary: person(),
    oldBeneficiary: person(),
    supplier: person(),
    activeBuyer: person(),
  };
  const neverRegistered = 'C-only-named-as-cultural-contact';
  const expected = {
    anonymized: [people.customer, people.oldBeneficiary],
    erased: [people.prospect, people.relay],
    skippedDebtorOrCreditor: [people.debtor],
    skippedLegalHold: [people.held],
  };
  const sorted = (ids: string[]) => [...ids].sort();
  const idsOf = (list: Person[]) => sorted(list.map((p) => p.contactId));
  const contactsOf = (report: InactiveBatchReport) =>
    Object.fromEntries(Object.entries(report.contacts).map(([outcome, ids]) => [outcome, sorted(ids)]));

  before(async () => {
    ledger = await openTestLedger();
    await configureTestPurposes(ledger);
    const { customer, recentCustomer, debtor, held, structure, relay } = people;
    const { recentBeneficiary, oldBeneficiary, supplier } = people;
    const events = [
      ...Object.values(people).map((p) => registered(p, '2019-05-01T09:00:00Z')),
      withRole(structure, 'structure'),
      withRole(relay, 'relay'),
      withRole(supplier, 'supplier'),
      sale(customer, 'O-old', '2021-06-15T20:00:00Z'),
      sale(recentCustomer, 'O-recent', '2025-09-01T20:00:00Z', { culturalContactId: recentBeneficiary.contactId }),
      sale(customer, 'O-gift', '2021-07-01T20:00:00Z', { culturalContactId: oldBeneficiary.contactId }),
      sale(customer, 'O-unknown', '2021-07-02T20:00:00Z', { culturalContactId: neverRegistered }),
      // An active buyer's old order is purged all the same; its recent one is not.
      sale(people.activeBuyer, 'O-active-old', '2022-01-15T20:00:00Z', {
        beneficiary: { firstName: 'Guest', lastName: people.activeBuyer.lastName, address: { country: 'BE' } },
      }),
      sale(people.activeBuyer, 'O-active-recent', '2026-01-15T20:00:00Z', {
        beneficiary: { firstName: 'Guest', lastName: people.activeBuyer.lastName, address: { country: 'BE' } },
      }),
      event(debtor, 'BalanceChanged', { balance: -12.5, currency: 'EUR' }),
      event(held, 'LegalHoldPlaced', { reason: 'litigation' }),
      event(customer, 'ConsentGiven', {
        purpose: 'newsletter',
        source: 'portal',
        wordingVersion: 'v1',
        preChecked: false,
      }),
    ];
    const published = await publish(ledger, { events });
    expect(published.appended).to.have.length(events.length);
    await ledger.runner.catchUp();
  });
  after(() => ledger.dispose());

  it('measures inactivity in calendar months, the day clamped to the month end', () => {
    expect(inactivityCutoff(AS_OF, 36)).to.equal('2023-11-30T00:00:00.000Z');
    expect(inactivityCutoff(new Date('2026-05-31T12:00:00Z'), 3)).to.equal('2026-02-28T12:00:00.000Z');
    expect(inactivityCutoff(new Date('2024-05-31T00:00:00Z'), 3)).to.equal('2024-02-29T00:00:00.000Z');
    expect(() => inactivityCutoff(AS_OF, 0)).to.throw(/whole number of months/);
    expect(() => inactivityCutoff(AS_OF, 1.5)).to.throw(/whole number of months/);
  });

  it('simulates by default: the expected outcome of every class, and nothing written', async () => {
    const head = await ledger.store.headPosition();
    const { report, forgotten } = await runInactiveBatch(ledger, { asOf: AS_OF });
    expect(report.simulated).to.equal(true);
    expect(report.runId).to.equal(null);
    expect(report.cutoff).to.equal('2023-11-30T00:00:00.000Z');
    expect(contactsOf(report)).to.deep.equal(
      Object.fromEntries(Object.entries(expected).map(([outcome, list]) => [outcome, idsOf(list)])),
    );
    expect(report.counts).to.deep.equal({
      anonymized: 2,
      erased: 2,
      skippedDebtorOrCreditor: 1,
      skippedLegalHold: 1,
      orderDataPurged: 4,
    });
    expect(report.ordersPurged).to.deep.equal(['O-active-old', 'O-gift', 'O-old', 'O-unknown']);
    expect(forgotten).to.deep.equal([]);
    expect(await ledger.store.headPosition()).to.equal(head);
  });

  it('a read model edited to make an active person look inactive: simulation and run both keep them', async () => {
    const { recentCustomer } = people;
    await editReadModels(ledger, 'UPDATE contacts SET recency_at = ? WHERE contact_id = ?', [
      '2019-01-01T00:00:00.000Z',
      recentCustomer.contactId,
    ]);
    // The simulation decides as a run does, from the log: what it shows is what a run will do.
    const simulated = await runInactiveBatch(ledger, { asOf: AS_OF });
    expect(simulated.report.contacts.anonymized).not.to.include(recentCustomer.contactId);
    expect(simulated.report.contacts.notInactiveInLog).to.deep.equal([recentCustomer.contactId]);
    // Applied to that contact alone: the tampered proposal meets the log.
    await editReadModels(ledger, 'UPDATE contacts SET recency_at = ? WHERE contact_id <> ?', [
      '2026-01-01T00:00:00.000Z',
      recentCustomer.contactId,
    ]);
    const { report, forgotten } = await runInactiveBatch(ledger, { asOf: AS_OF, apply: true });
    expect(report.contacts.notInactiveInLog).to.deep.equal([recentCustomer.contactId]);
    expect(report.counts.anonymized).to.equal(0);
    expect(forgotten.filter((event) => event.type !== 'OrderDataPurged')).to.deep.equal([]);
    expect((await contactView(ledger, recentCustomer.contactId)).status).to.equal('active');
    // Put the read model back as the log says it is.
    await ledger.runner.rebuild();
  });

  it('applies: the report equals the simulation made just before; the run is recorded in the log', async () => {
    const simulated = await runInactiveBatch(ledger, { asOf: AS_OF });
    const { report, forgotten } = await runInactiveBatch(ledger, { asOf: AS_OF, apply: true });
    expect(report.simulated).to.equal(false);
    expect(report.runId).to.be.a('string');
    expect(contactsOf(report)).to.deep.equal(contactsOf(simulated.report));
    expect(report.counts).to.deep.equal(simulated.report.counts);
    expect(forgotten.map((e) => [e.stream.replace('contact-', ''), e.type]).sort()).to.deep.equal(
      [
        [people.customer.contactId, 'ContactAnonymized'],
        [people.oldBeneficiary.contactId, 'ContactAnonymized'],
        [people.prospect.contactId, 'ContactErased'],
        [people.relay.contactId, 'ContactErased'],
      ].sort(),
    );
    const run = await ledger.store.readStream(`batch-${report.runId}`);
    expect(run.map((e) => e.type)).to.deep.equal([
      'InactiveBatchStarted',
      'InactiveContactSkipped',
      'InactiveContactSkipped',
      'InactiveBatchCompleted',
    ]);
    expect(
      run
        .filter((e) => e.type === 'InactiveContactSkipped')
        .map((e) => e.data)
        .sort(),
    ).to.deep.include.members([
      { contactId: people.debtor.contactId, reason: 'skippedDebtorOrCreditor' },
      { contactId: people.held.contactId, reason: 'skippedLegalHold' },
    ]);
    expect(run.at(-1)!.data).to.deep.equal({ counts: report.counts });
    for (const e of forgotten) await ledger.shredder.shredFor(e);
  });

  it("keeps a customer's country, town and postcode, no address part of a prospect; consents withdrawn", async () => {
    const customer = await contactView(ledger, people.customer.contactId);
    expect(customer.status).to.equal('anonymized');
    expect(customer.retained).to.deep.equal({ country: 'FR', town: 'Lyon', postcode: '69001' });
    expect(customer.details).to.deep.equal({});
    expect(customer.consents['newsletter']?.status).to.equal('no');
    const prospect = await contactView(ledger, people.prospect.contactId);
    expect(prospect.status).to.equal('erased');
    expect(prospect.retained).to.equal(null);
    const timeline = await contactTimeline(ledger, people.prospect.contactId);
    expect(timeline[0]!.personal).to.equal('erased');
  });

  it('forgotten contacts leave the recency list; other roles and unregistered ids are in no outcome', async () => {
    await ledger.runner.catchUp();
    const listed = await ledger.readModels.recencyBefore('2030-01-01T00:00:00.000Z', null, 1000);
    const ids = listed.items.map((item) => item.contactId);
    for (const p of [...expected.anonymized, ...expected.erased]) expect(ids).not.to.include(p.contactId);
    expect(ids).to.include.members([people.structure.contactId, people.supplier.contactId, people.debtor.contactId]);
    expect(ids).not.to.include(neverRegistered);
    const again = await runInactiveBatch(ledger, { asOf: AS_OF, apply: true });
    expect(again.report.counts).to.deep.equal({
      anonymized: 0,
      erased: 0,
      skippedDebtorOrCreditor: 1,
      skippedLegalHold: 1,
      orderDataPurged: 0,
    });
  });

  it('purged the old order of an active buyer: its data gone but the country; a recent one kept', async () => {
    const buyer = people.activeBuyer;
    expect((await contactView(ledger, buyer.contactId)).status).to.equal('active');
    const timeline = await contactTimeline(ledger, buyer.contactId);
    const sale = (orderId: string) => timeline.find((e) => e.type === 'TicketSold' && e.data['orderId'] === orderId)!;
    expect(sale('O-active-old').personal).to.equal('erased');
    expect(sale('O-active-old').erased).to.include.members(['beneficiary', 'ipAddress']);
    expect(sale('O-active-recent').personal).to.equal('open');
    expect(JSON.stringify(sale('O-active-recent').data)).to.contain(buyer.lastName);
    const purge = timeline.find((e) => e.type === 'OrderDataPurged')!;
    expect(purge.data).to.include({ orderId: 'O-active-old' });
    expect(purge.data['retained']).to.deep.equal({ beneficiaryCountry: 'BE' });
    expect(sale('O-active-old').erasedBy).to.equal(purge.id);
  });

  it('a debtor once settled and a contact once its hold is released are forgotten by a later run', async () => {
    await publish(ledger, {
      events: [
        event(people.debtor, 'BalanceChanged', { balance: 0, currency: 'EUR' }, '2020-04-01T10:00:00Z'),
        event(people.held, 'LegalHoldReleased', { reason: 'case-closed' }, '2020-04-01T10:00:00Z'),
      ],
    });
    await ledger.runner.catchUp();
    const { report } = await runInactiveBatch(ledger, { asOf: AS_OF, apply: true });
    expect(sorted(report.contacts.erased)).to.deep.equal(idsOf([people.debtor, people.held]));
    expect(report.counts.skippedDebtorOrCreditor + report.counts.skippedLegalHold).to.equal(0);
  });
});
