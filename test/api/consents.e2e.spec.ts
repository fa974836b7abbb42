import { expect } from 'chai';
import { openTestLedger, type TestLedger } from '../support/ledger.js';
import { startApi, type Api } from '../support/http.js';
import { runCli } from '../support/cli.js';
import { person, registered, type Person } from '../support/events.js';

/** Purposes, consent rules, evidence and the expiry job, as an institution's systems use them over HTTP. */
describe('purposes, consents and their expiry (HTTP and CLI)', function () {
  this.timeout(120_000);
  let ledger: TestLedger;
  let api: Api;
  const realNow = () => new Date();

  const consent = (p: Person, type: 'ConsentGiven' | 'ConsentWithdrawn', purpose: string, extra = {}) => ({
    type,
    contactId: p.contactId,
    organizationId: 'ORG-A',
    occurredAt: '2021-03-01T10:00:00Z',
    data:
      type === 'ConsentGiven'
        ? { purpose, source: 'portal', wordingVersion: 'v3', preChecked: false, ...extra }
        : { purpose, source: 'form', ...extra },
  });

  before(async () => {
    ledger = await openTestLedger();
    api = await startApi(ledger);
  });
  after(async () => {
    await api.close();
    await ledger.dispose();
  });

  /** Configures purposes as if on a day long past, so that expiry has been enabled since then. */
  async function configureOn(day: string, code: string, body: Record<string, unknown>) {
    ledger.now = () => new Date(day);
    try {
      const answer = await api.put(`/v1/purposes/${code}`, body);
      expect(answer.status, answer.text).to.equal(200);
      return answer;
    } finally {
      ledger.now = realNow;
    }
  }

  describe('purposes as configuration events', () => {
    it('PUT configures a purpose, a repeated PUT appends nothing, GET lists them', async () => {
      const body = { kind: 'consent', channel: 'email', expiryDays: 730, prolongedBy: ['MarketingLinkClicked'] };
      const first = await configureOn('2020-01-01T00:00:00Z', 'newsletter', body);
      expect(first.body).to.deep.include({ changed: true });
      expect(first.body.purpose).to.include({
        code: 'newsletter',
        expiryDays: 730,
        expirySince: '2020-01-01T00:00:00.000Z',
      });
      const head = await ledger.store.headPosition();
      expect((await api.put('/v1/purposes/newsletter', body)).body).to.deep.include({ changed: false });
      expect(await ledger.store.headPosition()).to.equal(head);
      await configureOn('2020-01-01T00:00:00Z', 'interest', { kind: 'legalBasis', channel: 'all' });
      const listed = await api.get('/v1/purposes');
      expect(listed.body.items.map((p: { code: string }) => p.code)).to.deep.equal(['interest', 'newsletter']);
    });

    const bad: Array<[string, string, unknown, number, RegExp]> = [
      ['an unknown kind', 'x', { kind: 'maybe', channel: 'email' }, 400, /kind/],
      ['an unknown channel', 'x', { kind: 'consent', channel: 'fax' }, 400, /channel/],
      ['zero days', 'x', { kind: 'consent', channel: 'email', expiryDays: 0 }, 400, /expiryDays/],
      [
        'a prolonging type that prolongs nothing',
        'x',
        { kind: 'consent', channel: 'email', prolongedBy: ['NoteAdded'] },
        400,
        /prolongedBy/,
      ],
      ['an unknown field', 'x', { kind: 'consent', channel: 'email', enabled: true }, 400, /enabled|known field/],
      ['a code that is no slug', 'News%20Letter', { kind: 'consent', channel: 'email' }, 400, /code/],
      ['a code that is a phone number', '33612345678', { kind: 'consent', channel: 'email' }, 400, /code/],
      ['a change of kind', 'newsletter', { kind: 'legalBasis', channel: 'email' }, 422, /cannot change kind/],
    ];
    for (const [what, code, body, status, message] of bad) {
      it(`refuses ${what} (${status}) and appends nothing`, async () => {
        const head = await ledger.store.headPosition();
        const answer = await api.put(`/v1/purposes/${code}`, body);
        expect(answer.status, answer.text).to.equal(status);
        expect(answer.text).to.match(message);
        expect(await ledger.store.headPosition()).to.equal(head);
      });
    }
  });

  describe('consent rules on publish', () => {
    const p = person();
    before(async () => {
      expect((await api.post('/v1/events', registered(p))).status).to.equal(201);
    });

    const refusals: Array<[string, () => unknown, number, RegExp]> = [
      ['a purpose that is not configured', () => consent(p, 'ConsentGiven', 'unheard-of'), 422, /not configured/],
      [
        'a pre-checked consent',
        () => consent(p, 'ConsentGiven', 'newsletter', { preChecked: true }),
        400,
        /preChecked/,
      ],
      [
        'bundled consents (one purpose per event)',
        () => ({
          ...consent(p, 'ConsentGiven', 'newsletter'),
          data: { ...consent(p, 'ConsentGiven', 'x').data, purposes: ['a', 'b'] },
        }),
        400,
        /purposes|known field/,
      ],
    ];
    for (const [what, body, status, message] of refusals) {
      it(`refuses ${what} (${status}) and appends nothing`, async () => {
        const head = await ledger.store.headPosition();
        const answer = await api.post('/v1/events', body());
        expect(answer.status, answer.text).to.equal(status);
        expect(answer.text).to.match(message);
        expect(await ledger.store.headPosition()).to.equal(head);
      });
    }

    it('a refused legal basis cannot be given again by a form (422 saying why); an operator may', async () => {
      expect((await api.post('/v1/events', consent(p, 'ConsentWithdrawn', 'interest'))).status).to.equal(201);
      const head = await ledger.store.headPosition();
      const again = await api.post('/v1/events', {
        ...consent(p, 'ConsentGiven', 'interest'),
        data: { ...consent(p, 'ConsentGiven', 'interest').data, source: 'form' },
      });
      expect(again.status, again.text).to.equal(422);
      expect(again.body.errors[0]).to.include({ index: 0, pointer: '/data/source' });
      expect(again.body.detail).to.match(/legal basis interest was refused by the person; a form cannot/);
      expect(again.body.action).to.match(/operator/);
      // The refusal names the source that tried, whichever it is.
      const imported = await api.post('/v1/events', consent(p, 'ConsentGiven', 'interest', { source: 'import' }));
      expect(imported.status, imported.text).to.equal(422);
      expect(imported.body.detail).to.match(/legal basis interest was refused by the person; an import cannot/);
      expect(await ledger.store.headPosition()).to.equal(head);
      // A withdrawal and a form's "yes" in one body: the body's own order counts.
      const q = person();
      const both = await api.post('/v1/events', {
        events: [
          registered(q),
          consent(q, 'ConsentWithdrawn', 'interest'),
          {
            ...consent(q, 'ConsentGiven', 'interest'),
            data: { ...consent(q, 'ConsentGiven', 'interest').data, source: 'form' },
          },
        ],
      });
      expect(both.status).to.equal(422);
      expect(both.body.errors[0]).to.include({ index: 2 });
      const byOperator = consent(p, 'ConsentGiven', 'interest', {
        source: 'operator',
        operatorName: 'Agent Smith',
        evidenceNote: 'asked at the desk',
      });
      expect((await api.post('/v1/events', byOperator)).status).to.equal(201);
    });

    it('the contact view shows each consent with its evidence: when, source, IP, operator, wording, note', async () => {
      await api.post('/v1/events', consent(p, 'ConsentGiven', 'newsletter', { ipAddress: p.ip }));
      const view = await api.get(`/v1/contacts/${p.contactId}`);
      expect(view.body.consents.newsletter).to.deep.include({ status: 'yes', changedAt: '2021-03-01T10:00:00.000Z' });
      expect(view.body.consents.newsletter.evidence).to.include({
        source: 'portal',
        wordingVersion: 'v3',
        ipAddress: p.ip,
      });
      expect(view.body.consents.interest.evidence).to.include({
        source: 'operator',
        operatorName: 'Agent Smith',
        note: 'asked at the desk',
      });
      const exported = await api.get(`/v1/contacts/${p.contactId}/export`);
      expect(exported.body.contact.consents.interest.evidence).to.include({ operatorName: 'Agent Smith' });
    });
  });

  describe('the expiry job', () => {
    const idle = person();
    const clicker = person();
    before(async () => {
      const events = [idle, clicker].flatMap((p) => [
        registered(p, '2021-01-01T09:00:00Z'),
        consent(p, 'ConsentGiven', 'newsletter'),
      ]);
      const click = {
        type: 'MarketingLinkClicked',
        contactId: clicker.contactId,
        organizationId: 'ORG-A',
        occurredAt: '2022-12-01T10:00:00Z',
        data: { campaignId: 'CMP-1', channel: 'email' },
      };
      expect((await api.post('/v1/events', { events: [...events, click] })).status).to.equal(201);
      await ledger.runner.catchUp();
    });

    it('expires every "yes" past its last activity plus the expiry, once; a click prolongs it', async () => {
      const run = await api.post('/v1/consents/expire', { asOf: '2023-06-01' });
      expect(run.status, run.text).to.equal(201);
      expect(run.body.purposes.newsletter).to.include({ expiryDays: 730, cutoff: '2021-06-01T00:00:00.000Z' });
      const idleView = await api.get(`/v1/contacts/${idle.contactId}`);
      expect(idleView.body.consents.newsletter).to.include({
        status: 'unknown',
        changedAt: '2023-06-01T00:00:00.000Z',
      });
      expect(idleView.body.consents.newsletter.evidence).to.include({ source: 'ledger', type: 'ConsentExpired' });
      expect(idleView.body.organizations).to.deep.equal(['ORG-A']);
      const clickerView = await api.get(`/v1/contacts/${clicker.contactId}`);
      expect(clickerView.body.consents.newsletter).to.include({
        status: 'yes',
        lastActivityAt: '2022-12-01T10:00:00.000Z',
      });
      expect(clickerView.body.consents.newsletter.expiresAt).to.equal('2024-11-30T10:00:00.000Z');
      // Idempotent: the same run again appends nothing, even before the read model has caught up.
      const head = await ledger.store.headPosition();
      const again = await api.post('/v1/consents/expire', { asOf: '2023-06-01' });
      expect(again.status).to.equal(200);
      expect(again.body.expired).to.equal(0);
      expect(await ledger.store.headPosition()).to.equal(head);
    });

    it('refuses an as-of in the future (422), a bad date or field (400), appending nothing', async () => {
      const head = await ledger.store.headPosition();
      expect((await api.post('/v1/consents/expire', { asOf: '2199-01-01' })).status).to.equal(422);
      expect((await api.post('/v1/consents/expire', { asOf: 'tomorrow' })).status).to.equal(400);
      expect((await api.post('/v1/consents/expire', { asOf: '2023-01-01', dryRun: true })).status).to.equal(400);
      expect(await ledger.store.headPosition()).to.equal(head);
    });

    it('ledger consents expire prints the counts per purpose, or JSON', async () => {
      const printed = runCli(['consents', 'expire', '--as-of', '2025-01-01', '--json'], ledger.env);
      expect(printed.status, printed.stderr).to.equal(0);
      const report = JSON.parse(printed.stdout);
      expect(report).to.deep.include({ asOf: '2025-01-01T00:00:00.000Z', expired: 1 });
      expect(report.purposes.newsletter.expired).to.equal(1);
    });
  });
});
