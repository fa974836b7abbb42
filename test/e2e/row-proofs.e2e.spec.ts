import { expect } from 'chai';
import { openTestLedger, type TestLedger } from '../support/ledger.js';
import { dumpReadModels, editReadModels } from '../support/stored.js';
import { person, registered, type Person } from '../support/events.js';
import { publish } from '../../src/app/publish.js';
import { runInactiveBatch, type InactiveBatchReport } from '../../src/app/inactive-contacts-batch.js';
import { contactView } from '../../src/app/contact-view.js';
import type { EventStore } from '../../src/store/event-store.js';

const AS_OF = new Date('2026-11-30T00:00:00Z');
const OLD = '2019-05-01T09:00:00Z';
const RECENT = '2026-10-01T09:00:00Z';

const click = (p: Person, occurredAt = RECENT) => ({
  type: 'MarketingLinkClicked',
  contactId: p.contactId,
  organizationId: 'ORG-A',
  occurredAt,
  data: { campaignId: 'CAMP-1', channel: 'email' },
});

type ContactRow = Record<string, unknown> & { contact_id: string };

/** The report without what differs between a simulation and a run (its id, whether simulated). */
const outcomeOf = ({ counts, contacts, ordersPurged }: InactiveBatchReport) => ({ counts, contacts, ordersPurged });

/**
 * The simulation decides a proposed contact from its read-model row when the row proves itself
 * (an HMAC under a key of the master key) and was folded up to the log's head for the contact;
 * any other row is decided from the log. Whatever was done to state.db, the run's report is the
 * simulation's, and an active person is never forgotten.
 */
describe('read-model row proofs: the simulation is the run, however state.db was edited', function () {
  this.timeout(60_000);
  let ledger: TestLedger;
  const inactive = Array.from({ length: 40 }, () => person());

  /** The contact streams read while `work` runs (noted on their way to the real store). */
  async function streamsReadDuring(work: () => Promise<unknown>): Promise<string[]> {
    const store = ledger.store;
    const read: string[] = [];
    const counting = Object.create(store) as EventStore;
    counting.readStream = (stream) => {
      if (stream.startsWith('contact-')) read.push(stream);
      return store.readStream(stream);
    };
    ledger.store = counting;
    try {
      await work();
    } finally {
      ledger.store = store;
    }
    return read;
  }

  async function rowOf(contactId: string): Promise<ContactRow> {
    const { contacts } = (await dumpReadModels(ledger)) as { contacts: ContactRow[] };
    return contacts.find((row) => row.contact_id === contactId)!;
  }

  /** Writes a row's columns back, as an edit of state.db (or a restore from an older copy) would. */
  async function overwriteRow(contactId: string, columns: Record<string, unknown>) {
    const names = Object.keys(columns).filter((name) => name !== 'contact_id');
    const set = names.map((name) => `${name} = ?`).join(', ');
    await editReadModels(ledger, `UPDATE contacts SET ${set} WHERE contact_id = ?`, [
      ...names.map((name) => columns[name]),
      contactId,
    ]);
  }

  beforeEach(async () => {
    ledger = await openTestLedger();
    await publish(ledger, { events: inactive.map((p) => registered(p, OLD)) });
    await ledger.runner.catchUp();
  });
  afterEach(() => ledger.dispose());

  it('intact rows: the simulation reads no stream, and its report is the run’s', async () => {
    let simulated: InactiveBatchReport | null = null;
    const read = await streamsReadDuring(async () => {
      simulated = (await runInactiveBatch(ledger, { asOf: AS_OF })).report;
    });
    expect(read).to.deep.equal([]);
    expect(simulated!.counts.erased).to.equal(inactive.length);
    const { report } = await runInactiveBatch(ledger, { simulationId: simulated!.simulationId, apply: true });
    expect(outcomeOf(report)).to.deep.equal(outcomeOf(simulated!));
  });

  it('a row edited to look inactive fails its proof: decided from the log, kept by simulation and run', async () => {
    const active = person();
    await publish(ledger, { events: [registered(active, RECENT)] });
    await ledger.runner.catchUp();
    await overwriteRow(active.contactId, { recency_at: '2019-01-01T00:00:00.000Z' });
    const read = await streamsReadDuring(() => runInactiveBatch(ledger, { asOf: AS_OF }));
    expect(read).to.deep.equal([`contact-${active.contactId}`]);
    await expectKeptBySimulationAndRun(active);
  });

  it('another contact’s row, proof and all, copied over an active one: decided from the log', async () => {
    const active = person();
    await publish(ledger, { events: [registered(active, RECENT)] });
    await ledger.runner.catchUp();
    const { contact_id: _ignored, ...theirs } = await rowOf(inactive[0]!.contactId);
    await overwriteRow(active.contactId, theirs);
    await expectKeptBySimulationAndRun(active);
  });

  it('a row restored from an older state.db proves itself, but not at the log’s head: from the log', async () => {
    const returning = inactive[1]!;
    const before = await rowOf(returning.contactId);
    await publish(ledger, { events: [click(returning)] });
    await ledger.runner.catchUp();
    await overwriteRow(returning.contactId, before);
    await expectKeptBySimulationAndRun(returning);
  });

  it('a row restored from before a sale naming the contact as beneficiary: the mention moved its head', async () => {
    const beneficiary = inactive[2]!;
    const buyer = person();
    const before = await rowOf(beneficiary.contactId);
    await publish(ledger, {
      events: [
        registered(buyer, RECENT),
        {
          type: 'TicketSold',
          contactId: buyer.contactId,
          organizationId: 'ORG-A',
          occurredAt: RECENT,
          data: {
            orderId: 'O-gift',
            product: { kind: 'dated', validUntil: '2026-12-20T20:00:00Z' },
            culturalContactId: beneficiary.contactId,
          },
        },
      ],
    });
    await ledger.runner.catchUp();
    expect((await rowOf(beneficiary.contactId))['recency_at']).to.equal('2026-12-20T20:00:00.000Z');
    await overwriteRow(beneficiary.contactId, before);
    await expectKeptBySimulationAndRun(beneficiary);
  });

  /** The simulation and the run both say the log does not find this person inactive, and forget nobody else. */
  async function expectKeptBySimulationAndRun(kept: Person) {
    const simulated = (await runInactiveBatch(ledger, { asOf: AS_OF })).report;
    expect(simulated.contacts.notInactiveInLog).to.deep.equal([kept.contactId]);
    expect(simulated.contacts.erased).to.have.length(inactive.filter((p) => p !== kept).length);
    const { report } = await runInactiveBatch(ledger, { simulationId: simulated.simulationId, apply: true });
    expect(outcomeOf(report)).to.deep.equal(outcomeOf(simulated));
    expect((await contactView(ledger, kept.contactId)).status).to.equal('active');
  }
});
