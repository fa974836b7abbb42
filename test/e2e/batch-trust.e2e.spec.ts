import { expect } from 'chai';
import { openTestLedger, type TestLedger } from '../support/ledger.js';
import { startApi, type Api } from '../support/http.js';
import { runCli } from '../support/cli.js';
import { person, registered, ticketSold } from '../support/events.js';
import { publish } from '../../src/app/publish.js';
import { runInactiveBatch } from '../../src/app/inactive-contacts-batch.js';

/**
 * Findings on 5b474a4 that made forgetting untrustworthy on real data: the batch aborted on the
 * demo institution (a buyer with several old orders raced its own purges), an as-of in the future
 * was accepted, a run could apply an outcome nobody reviewed, and `ledger forget` anonymized a
 * prospect that the batch and requests erase.
 */
describe('inactive batch you can trust on real data', function () {
  this.timeout(300_000);

  describe('the demo institution through the CLI, as a new user runs it', () => {
    let ledger: TestLedger;
    before(async () => {
      ledger = await openTestLedger();
      await ledger.close();
    });
    after(() => ledger.dispose());

    it('5,000 contacts (seed 11): the run applies the simulation made just before, exit 0, same counts', () => {
      const demo = runCli(['demo', '--contacts', '5000', '--seed', '11'], ledger.env);
      expect(demo.status, demo.stderr).to.equal(0);
      const simulation = runCli(['batch', 'inactive', '--json'], ledger.env);
      expect(simulation.status, simulation.stderr).to.equal(0);
      const simulated = JSON.parse(simulation.stdout);
      expect(simulated.counts.anonymized + simulated.counts.erased).to.be.greaterThan(500);
      expect(simulated.counts.orderDataPurged).to.be.greaterThan(500);
      const run = runCli(
        ['batch', 'inactive', '--apply', '--simulation', simulated.simulationId, '--json'],
        ledger.env,
      );
      expect(run.status, run.stderr).to.equal(0);
      const applied = JSON.parse(run.stdout);
      expect(applied.counts).to.deep.equal(simulated.counts);
      expect(applied.contacts).to.deep.equal(simulated.contacts);
      expect(applied.ordersPurged).to.deep.equal(simulated.ordersPurged);
      expect(applied.keysDestroyed).to.equal(
        applied.counts.anonymized + applied.counts.erased + applied.ordersPurged.length,
      );
      const verified = runCli(['audit', 'verify'], ledger.env);
      expect(verified.status, verified.stdout + verified.stderr).to.equal(0);
      expect(verified.stdout).to.match(/^OK/);
    });
  });

  describe('guards and decisions', () => {
    let ledger: TestLedger;
    let api: Api;
    const route = '/v1/batches/inactive-contacts';
    before(async () => {
      ledger = await openTestLedger();
      api = await startApi(ledger);
    });
    after(async () => {
      await api.close();
      await ledger.dispose();
    });

    it('a buyer with ten purgeable orders: every purge and the forgetting in one run, nothing left', async () => {
      const buyer = person();
      const orders = Array.from({ length: 10 }, (_, i) => ticketSold(buyer, `O-ten-${buyer.contactId}-${i}`));
      await publish(ledger, { events: [registered(buyer, '2019-01-10T09:00:00Z'), ...orders] });
      const [asOf, inactivityMonths] = [new Date('2026-11-01T00:00:00Z'), 12]; // the tickets ended in 2024
      const simulated = await runInactiveBatch(ledger, { asOf, inactivityMonths });
      const { report } = await runInactiveBatch(ledger, { asOf, inactivityMonths, apply: true });
      expect(report.contacts.anonymized).to.deep.equal([buyer.contactId]);
      expect(report.ordersPurged).to.have.length(10);
      expect(report.counts).to.deep.equal(simulated.report.counts);
      const again = await runInactiveBatch(ledger, { asOf, inactivityMonths, apply: true });
      expect(again.report.counts.orderDataPurged + again.report.counts.anonymized).to.equal(0);
    });

    it('an as-of in the future is refused (422) by the API and the CLI, appending nothing', async () => {
      const head = await ledger.store.headPosition();
      const future = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
      for (const simulate of [true, false]) {
        const answer = await api.post(route, { asOf: future, simulate });
        expect(answer.status, answer.text).to.equal(422);
        expect(answer.body.detail).to.match(/as-of is in the future/);
      }
      const cli = runCli(['batch', 'inactive', '--as-of', future, '--apply'], ledger.env);
      expect(cli.status).to.equal(2);
      expect(cli.stderr).to.match(/as-of is in the future/);
      expect(await ledger.store.headPosition()).to.equal(head);
    });

    it('a run naming its simulation is refused (409, saying what changed) when the outcome changed', async () => {
      const [first, second] = [person(), person()];
      await publish(ledger, { events: [registered(first, '2019-02-01T09:00:00Z')] });
      const simulated = await api.post(route, { asOf: '2026-11-01' });
      expect(simulated.status).to.equal(200);
      expect(simulated.body.contacts.erased).to.include(first.contactId);
      await publish(ledger, { events: [registered(second, '2019-02-01T09:00:00Z')] });
      const head = await ledger.store.headPosition();
      const refused = await api.post(route, { simulate: false, simulationId: simulated.body.simulationId });
      expect(refused.status, refused.text).to.equal(409);
      expect(refused.body.detail).to.match(/erased: \d+ → \d+/);
      expect(refused.body.changed.erased.now).to.equal(refused.body.changed.erased.simulated + 1);
      expect(await ledger.store.headPosition()).to.equal(head);
      // Simulated again and reviewed: the run applies exactly that, at the simulation's as-of.
      const reviewed = await api.post(route, { asOf: '2026-11-01' });
      const run = await api.post(route, { simulate: false, simulationId: reviewed.body.simulationId });
      expect(run.status, run.text).to.equal(201);
      expect(run.body.asOf).to.equal('2026-11-01T00:00:00.000Z');
      expect(run.body.contacts).to.deep.equal(reviewed.body.contacts);
      expect(run.body.contacts.erased).to.include.members([first.contactId, second.contactId]);
    });

    it('a simulation id that is not one is a 400 naming simulationId', async () => {
      const answer = await api.post(route, { simulate: false, simulationId: 'bm90LWEtc2ltdWxhdGlvbg' });
      expect(answer.status).to.equal(400);
      expect(answer.text).to.match(/simulationId/);
    });

    it('ledger forget erases a prospect and anonymizes a customer, as the batch and requests do', async () => {
      const [prospect, customer] = [person(), person()];
      await publish(ledger, {
        events: [registered(prospect), registered(customer), ticketSold(customer, `O-forget-${customer.contactId}`)],
      });
      const erased = runCli(['forget', prospect.contactId, '--reason', 'request'], ledger.env);
      expect(erased.status, erased.stderr).to.equal(0);
      expect(erased.stdout).to.match(/erased by event/);
      const prospectLog = await ledger.store.readStream(`contact-${prospect.contactId}`);
      expect(prospectLog.at(-1)).to.deep.include({ type: 'ContactErased' });
      expect(prospectLog.at(-1)!.data).not.to.have.property('retained');
      const anonymized = runCli(['forget', customer.contactId, '--reason', 'request'], ledger.env);
      expect(anonymized.status, anonymized.stderr).to.equal(0);
      expect((await ledger.store.readStream(`contact-${customer.contactId}`)).at(-1)!.data['retained']).to.deep.equal({
        country: customer.country,
        town: customer.town,
        postcode: customer.postcode,
      });
    });
  });
});
