import { expect } from 'chai';
import { openTestLedger, type TestLedger } from '../support/ledger.js';
import { startApi, type Api } from '../support/http.js';
import { runCli } from '../support/cli.js';
import { person, personalValues, registered, ticketSold } from '../support/events.js';
import { publish } from '../../src/app/publish.js';
import { forgetContact } from '../../src/app/forget-contact.js';

/** The NDJSON lines of an answer, parsed. */
const lines = (text: string) =>
  text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);

describe('auditor routes: the log as stored, and its verification', function () {
  this.timeout(120_000);
  let ledger: TestLedger;
  let api: Api;
  const people = Array.from({ length: 400 }, () => person());
  const forgotten = people[0]!;
  let forgettingEvent: string;
  before(async () => {
    ledger = await openTestLedger();
    api = await startApi(ledger);
    const events = people.flatMap((p, i) => [registered(p), ticketSold(p, `O-${i}`)]);
    for (let i = 0; i < events.length; i += 500) await publish(ledger, { events: events.slice(i, i + 500) });
    const forgetting = await forgetContact(ledger, forgotten.contactId, { reason: 'request', requestId: 'R-1' });
    forgettingEvent = forgetting.forgettingEvent.id;
    await ledger.shredder.shredFor(forgetting.forgettingEvent);
  });
  after(async () => {
    await api.close();
    await ledger.dispose();
  });

  it(
    'an NDJSON replay of the whole log equals readAll, ' + 'sealed parts unopened, destroyed keys marked erased',
    async () => {
      const response = await api.get('/v1/audit/events?limit=1000000');
      expect(response.status).to.equal(200);
      expect(response.type).to.match(/^application\/x-ndjson/);
      const records = lines(response.text);
      const stored = await ledger.store.readAll({ limit: 1_000_000 });
      expect(records.map(({ erased: _e, erasedBy: _b, ...record }) => record)).to.deep.equal(stored);
      const erased = records.filter((record) => record['erased'] === true);
      // The forgotten person's registration: its key destroyed by the forgetting event. The sale's
      // order key is kept (no view opens it) until the order is purged: the auditor sees it is not.
      expect(erased.map((record) => [record['stream'], record['type'], record['erasedBy']])).to.deep.equal([
        [`contact-${forgotten.contactId}`, 'ContactRegistered', forgettingEvent],
      ]);
      for (const value of personalValues(people[1]!)) expect(response.text).not.to.contain(value);
    },
  );

  it('pages by position: from the last position read, at most limit records', async () => {
    const first = lines((await api.get('/v1/audit/events?limit=300')).text);
    const next = lines((await api.get(`/v1/audit/events?from=${first.at(-1)!['position']}&limit=1000`)).text);
    expect(first).to.have.length(300);
    const all = await ledger.store.readAll({ limit: 1300 });
    expect([...first, ...next].map((record) => record['id'])).to.deep.equal(all.map((event) => event.id));
  });

  it('GET /v1/audit/verify answers what ledger audit verify --json prints, for the log and for a stream', async () => {
    const whole = await api.get('/v1/audit/verify');
    expect(whole.body).to.deep.include({ ok: true, broken: [], gaps: [] });
    expect(whole.body).to.deep.equal(JSON.parse(runCli(['audit', 'verify', '--json'], ledger.env).stdout));
    const stream = `contact-${forgotten.contactId}`;
    const one = await api.get(`/v1/audit/verify?stream=${stream}`);
    expect(one.body).to.deep.equal({
      ok: true,
      streams: 1,
      events: 3,
      broken: [],
      log: null,
      gaps: [],
      checkpoints: { verified: 0, failed: [] },
    });
    expect(one.body).to.deep.equal(
      JSON.parse(runCli(['audit', 'verify', '--stream', stream, '--json'], ledger.env).stdout),
    );
  });

  for (const query of ['from=-1', 'from=x', 'limit=0', 'limit=1000001', 'limit=1.5']) {
    it(`refuses ${query} with a 400 problem`, async () => {
      const response = await api.get(`/v1/audit/events?${query}`);
      expect(response.status).to.equal(400);
      expect(response.type).to.match(/problem\+json/);
    });
  }
});
