import { expect } from 'chai';
import { openTestLedger, type TestLedger } from '../support/ledger.js';
import { startApi, type Api } from '../support/http.js';
import { SCHEDULES_STREAM } from '../../src/domain/schedules.js';
import { issueApiKey } from '../../src/app/issue-api-key.js';

/**
 * PUT /v1/schedules/:job, DELETE …/:job and GET /v1/schedules (README "Scheduled runs"): the
 * nightly runs of `serve` configured by events of the `schedules` stream, as purposes are.
 */
describe('/v1/schedules: the nightly runs, configured as events', function () {
  this.timeout(60_000);
  let ledger: TestLedger;
  let api: Api;
  before(async () => {
    ledger = await openTestLedger();
    api = await startApi(ledger);
  });
  after(async () => {
    await api.close();
    await ledger.dispose();
  });

  const streamTypes = async () => (await ledger.store.readStream(SCHEDULES_STREAM)).map((event) => event.type);
  const nightly = { cron: '0 2 * * *', timezone: 'Europe/Paris', mode: 'apply', inactivityMonths: 24 };

  it('schedules the inactive batch: one configuration event, its next run from the cron in its time zone', async () => {
    const answer = await api.put('/v1/schedules/inactive-contacts', nightly);
    expect(answer.status, answer.text).to.equal(200);
    expect(answer.body.changed).to.equal(true);
    expect(answer.body.schedule).to.deep.include({ job: 'inactive-contacts', lastRun: null });
    expect(answer.body.schedule.configuration).to.deep.include({ ...nightly, enabled: true });
    const next = new Date(answer.body.schedule.nextRun);
    expect(next.getTime()).to.be.greaterThan(Date.now());
    // 02:00 in Paris: 00:00 or 01:00 UTC, whatever the season.
    expect(next.getUTCMinutes()).to.equal(0);
    expect([0, 1]).to.include(next.getUTCHours());
    expect(await streamTypes()).to.deep.equal(['ScheduleConfigured']);
  });

  it('the same configuration again appends nothing', async () => {
    const answer = await api.put('/v1/schedules/inactive-contacts', { ...nightly, cron: ' 0  2 * * *' });
    expect(answer.status).to.equal(200);
    expect(answer.body.changed).to.equal(false);
    expect(await streamTypes()).to.deep.equal(['ScheduleConfigured']);
  });

  it('GET lists every job: its configuration (or null), its last run and its next; for the batch role', async () => {
    await api.put('/v1/schedules/consent-expiry', { cron: '30 1 * * *' });
    const { token } = await issueApiKey(ledger, { role: 'batch', name: 'nightly' });
    const answer = await api.get('/v1/schedules', { authorization: `Bearer ${token}` });
    expect(answer.status).to.equal(200);
    const byJob = Object.fromEntries(answer.body.items.map((item: { job: string }) => [item.job, item]));
    expect(Object.keys(byJob).sort()).to.deep.equal(['consent-expiry', 'inactive-contacts']);
    expect(byJob['consent-expiry'].configuration).to.deep.include({ cron: '30 1 * * *', timezone: 'UTC' });
    expect(byJob['consent-expiry'].nextRun).to.match(/T01:30:00\.000Z$/);
    expect(byJob['inactive-contacts'].configuration.mode).to.equal('apply');
  });

  const refusals: Array<[string, string, unknown, string]> = [
    ['a cron expression the library cannot read', 'inactive-contacts', { cron: '61 2 * * *' }, '/cron'],
    ['a sentence instead of a cron expression', 'consent-expiry', { cron: 'every night at two' }, '/cron'],
    ['a cron expression that never fires again', 'consent-expiry', { cron: '0 0 30 2 *' }, '/cron'],
    ['no cron expression', 'inactive-contacts', { mode: 'apply' }, '/cron'],
    ['an unknown time zone', 'inactive-contacts', { cron: '0 2 * * *', timezone: 'Mars/Olympus' }, '/timezone'],
    ['a mode that is neither simulate nor apply', 'inactive-contacts', { cron: '0 2 * * *', mode: 'yes' }, '/mode'],
    ['zero months', 'inactive-contacts', { cron: '0 2 * * *', inactivityMonths: 0 }, '/inactivityMonths'],
    ['a batch option on the expiry job', 'consent-expiry', { cron: '0 2 * * *', mode: 'apply' }, '/mode'],
    ['a job that does not exist', 'forget-everyone', { cron: '0 2 * * *' }, '/job'],
  ];
  for (const [name, job, body, pointer] of refusals) {
    it(`refuses ${name}: 400 naming ${pointer}, nothing appended`, async () => {
      const head = await ledger.store.headPosition();
      const answer = await api.put(`/v1/schedules/${job}`, body);
      expect(answer.status, answer.text).to.equal(400);
      expect(answer.type).to.match(/^application\/problem\+json/);
      expect(answer.body.errors.map((error: { pointer: string }) => error.pointer)).to.include(pointer);
      expect(await ledger.store.headPosition()).to.equal(head);
    });
  }

  it('enabled: false keeps the configuration and has no next run', async () => {
    const answer = await api.put('/v1/schedules/consent-expiry', { cron: '30 1 * * *', enabled: false });
    expect(answer.body).to.deep.include({ changed: true });
    expect(answer.body.schedule).to.deep.include({ nextRun: null });
    expect(answer.body.schedule.configuration.enabled).to.equal(false);
  });

  it('DELETE stops a schedule (a removal event); again, nothing is appended', async () => {
    const removed = await api.delete('/v1/schedules/consent-expiry');
    expect(removed.status).to.equal(200);
    expect(removed.body).to.deep.include({ changed: true });
    expect(removed.body.schedule).to.deep.include({ configuration: null, nextRun: null });
    const again = await api.delete('/v1/schedules/consent-expiry');
    expect(again.body.changed).to.equal(false);
    expect((await streamTypes()).filter((type) => type === 'ScheduleRemoved')).to.have.length(1);
    expect((await api.delete('/v1/schedules/nothing')).status).to.equal(400);
  });
});
