import { expect } from 'chai';
import { openTestLedger, type TestLedger } from '../support/ledger.js';
import { startApi, type Api } from '../support/http.js';
import { runCli } from '../support/cli.js';
import { person, registered } from '../support/events.js';
import { publish } from '../../src/app/publish.js';

/** POST /v1/batches/inactive-contacts and `ledger batch inactive`, as their callers use them. */
describe('inactive-contact batch over HTTP and the CLI', function () {
  this.timeout(120_000);
  let ledger: TestLedger;
  let api: Api;
  const prospects = [person(), person(), person()];
  const route = '/v1/batches/inactive-contacts';

  before(async () => {
    ledger = await openTestLedger();
    api = await startApi(ledger);
    await publish(ledger, { events: prospects.map((p) => registered(p, '2019-01-10T09:00:00Z')) });
    await ledger.runner.catchUp();
  });
  after(async () => {
    await api.close();
    await ledger.dispose();
  });

  const bad: Array<[string, unknown, RegExp]> = [
    ['an unknown field', { inactivityMonths: 36, dryRun: true }, /dryRun|is not a known field/],
    ['months of zero', { inactivityMonths: 0 }, /inactivityMonths/],
    ['months as a string', { inactivityMonths: '36' }, /inactivityMonths/],
    ['a fractional month', { inactivityMonths: 1.5 }, /inactivityMonths/],
    ['a date out of range', { asOf: '2400-01-01' }, /asOf/],
    ['a date that is no date', { asOf: 'yesterday' }, /asOf/],
    ['simulate as a string', { simulate: 'no' }, /simulate/],
    ['a body that is no object', [1, 2], /batch request/],
  ];
  for (const [what, body, pointer] of bad) {
    it(`refuses ${what} with a 400 naming the field, and appends nothing`, async () => {
      const head = await ledger.store.headPosition();
      const answer = await api.post(route, body);
      expect(answer.status, answer.text).to.equal(400);
      expect(answer.type).to.match(/^application\/problem\+json/);
      expect(answer.text).to.match(pointer);
      expect(await ledger.store.headPosition()).to.equal(head);
    });
  }

  it('refuses a body that is not JSON (400) or not sent as JSON (415), appending nothing', async () => {
    const head = await ledger.store.headPosition();
    expect((await api.postRaw(route, '{"simulate": fal', 'application/json')).status).to.equal(400);
    expect((await api.postRaw(route, 'simulate=false', 'application/x-www-form-urlencoded')).status).to.equal(415);
    expect(await ledger.store.headPosition()).to.equal(head);
  });

  it('simulates by default (200, nothing written); simulate: false applies (201) and records a run', async () => {
    const head = await ledger.store.headPosition();
    const simulated = await api.post(route, {});
    expect(simulated.status).to.equal(200);
    expect(simulated.body).to.include({ simulated: true, runId: null, inactivityMonths: 36 });
    expect(simulated.body.contacts.erased).to.have.members(prospects.map((p) => p.contactId));
    expect(await ledger.store.headPosition()).to.equal(head);

    const applied = await api.post(route, { inactivityMonths: 24, asOf: '2026-11-30', simulate: false });
    expect(applied.status, applied.text).to.equal(201);
    expect(applied.body).to.include({ simulated: false, asOf: '2026-11-30T00:00:00.000Z', inactivityMonths: 24 });
    expect(applied.body.counts.erased).to.equal(3);
    const run = await ledger.store.readStream(`batch-${applied.body.runId}`);
    expect(run.map((e) => e.type)).to.deep.equal(['InactiveBatchStarted', 'InactiveBatchCompleted']);
    // No personal value in a report: ids, dates and counts only.
    for (const p of prospects) expect(applied.text).not.to.include(p.email);
  });

  it('the CLI applies with --apply: the run forgets and this process destroys the keys', async () => {
    const late = person();
    await publish(ledger, registered(late, '2019-01-10T09:00:00Z'));
    await ledger.runner.catchUp();
    const applied = runCli(['batch', 'inactive', '--apply', '--json'], ledger.env);
    expect(applied.status, applied.stderr).to.equal(0);
    const report = JSON.parse(applied.stdout);
    expect(report).to.include({ simulated: false, keysDestroyed: 1 });
    expect(report.contacts.erased).to.deep.equal([late.contactId]);
  });

  it('the CLI prints a table, or JSON; a bad --as-of is refused without a trace of the value', () => {
    const table = runCli(['batch', 'inactive', '--as-of', '2026-11-30'], ledger.env);
    expect(table.status, table.stderr).to.equal(0);
    expect(table.stdout).to.match(/simulation \(nothing written\)/);
    expect(table.stdout).to.match(/erased\s+0/);
    const json = runCli(['batch', 'inactive', '--months', '12', '--json'], ledger.env);
    expect(json.status, json.stderr).to.equal(0);
    expect(JSON.parse(json.stdout)).to.include({ simulated: true, inactivityMonths: 12 });
    const wrong = runCli(['batch', 'inactive', '--as-of', 'next tuesday'], ledger.env);
    expect(wrong.status).to.equal(2);
    expect(wrong.stderr).to.match(/--as-of must be a date/);
    expect(wrong.stderr).not.to.include('tuesday');
    const months = runCli(['batch', 'inactive', '--months', 'many'], ledger.env);
    expect(months.status).to.equal(2);
    expect(months.stderr).to.match(/whole number of months/);
  });
});
