import { expect } from 'chai';
import { pino } from 'pino';
import { openTestLedger, type TestLedger } from '../support/ledger.js';
import { startApi, type Api } from '../support/http.js';
import { runCli } from '../support/cli.js';
import { configureTestPurposes, person, registered } from '../support/events.js';
import { configurePurpose } from '../../src/app/purposes.js';
import { forgetContact } from '../../src/app/forget-contact.js';
import { CONSENT_LINK_LIMIT } from '../../src/api/rate-limit.js';

/** Self-service consent links: the person sees, gives and withdraws consents without an account. */
describe('self-service consent links', function () {
  this.timeout(120_000);
  let ledger: TestLedger;
  let api: Api;
  const p = person();
  const noKey = { authorization: '' };

  /** Every line the API logs, at every level, and every token issued: no line may hold one. */
  const logged: string[] = [];
  const issued: string[] = [];

  before(async () => {
    ledger = await openTestLedger();
    api = await startApi(ledger, undefined, pino({ level: 'trace' }, { write: (line: string) => logged.push(line) }));
    await configureTestPurposes(ledger);
    await configurePurpose(ledger, 'interest', { kind: 'legalBasis', channel: 'all' });
    expect((await api.post('/v1/events', registered(p))).status).to.equal(201);
  });
  after(async () => {
    await api.close();
    await ledger.dispose();
  });

  const newLink = async (contactId = p.contactId, body: unknown = {}) => {
    const answer = await api.post(`/v1/contacts/${contactId}/consent-link`, body);
    expect(answer.status, answer.text).to.equal(201);
    issued.push(answer.body.token);
    return answer.body as { token: string; path: string; expiresAt: string };
  };

  it('an operator gets a link that holds nothing readable: no id, no personal data', async () => {
    const { token, path, expiresAt } = await newLink(p.contactId, { days: 7 });
    expect(path).to.equal(`/v1/consent-links/${token}`);
    expect(Date.parse(expiresAt) - Date.now()).to.be.within(6.9 * 86_400_000, 7 * 86_400_000);
    const decoded = Buffer.from(token.slice(4), 'base64url').toString('latin1');
    for (const secret of [p.contactId, p.email, p.lastName]) {
      expect(token).not.to.include(secret);
      expect(decoded).not.to.include(secret);
    }
  });

  it('the person sees their consents, gives one and withdraws another, without a key; the IP is evidence', async () => {
    const { path } = await newLink();
    const page = await api.get(path, noKey);
    expect(page.status, page.text).to.equal(200);
    expect(page.body.purposes.map((x: { code: string }) => x.code)).to.have.members(['newsletter', 'sms', 'interest']);
    expect(page.text).not.to.include(p.email);
    const yes = await api.post(path, { purpose: 'newsletter', answer: 'yes', wordingVersion: 'portal-v2' }, noKey);
    expect(yes.status, yes.text).to.equal(200);
    expect(yes.body.purposes.find((x: { code: string }) => x.code === 'newsletter').status).to.equal('yes');
    expect((await api.post(path, { purpose: 'interest', answer: 'no' }, noKey)).status).to.equal(200);
    const view = await api.get(`/v1/contacts/${p.contactId}`);
    expect(view.body.consents.newsletter.evidence).to.include({
      source: 'portal',
      wordingVersion: 'portal-v2',
      ipAddress: '127.0.0.1',
    });
    expect(view.body.consents.interest.status).to.equal('no');
  });

  it('an answer that changes nothing appends nothing and answers the page as it is', async () => {
    const q = person();
    expect((await api.post('/v1/events', registered(q))).status).to.equal(201);
    const { path } = await newLink(q.contactId);
    const head = await ledger.store.headPosition();
    const answer = async (body: unknown, appended: number, status: string) => {
      const page = await api.post(path, body, noKey);
      expect(page.status, page.text).to.equal(200);
      expect(page.body.purposes.find((x: { code: string }) => x.code === 'sms').status).to.equal(status);
      expect(await ledger.store.headPosition()).to.equal(head + appended);
    };
    // A replayed link: the same "yes" ten times is one event.
    for (let i = 0; i < 10; i++) await answer({ purpose: 'sms', answer: 'yes', wordingVersion: 'sms-v1' }, 1, 'yes');
    // The same "yes" to another wording is recorded (what the person agreed to changed); a "no", once.
    await answer({ purpose: 'sms', answer: 'yes', wordingVersion: 'sms-v2' }, 2, 'yes');
    await answer({ purpose: 'sms', answer: 'no' }, 3, 'no');
    await answer({ purpose: 'sms', answer: 'no' }, 3, 'no');
  });

  it('a link past its budget gets 429 with Retry-After and appends nothing; another link is unaffected', async () => {
    const { path } = await newLink();
    const { path: other } = await newLink();
    expect((await api.get(path, noKey)).status).to.equal(200);
    // Each answer a change, so that each would append: the rest of the window's budget.
    for (let i = 0; i < CONSENT_LINK_LIMIT.requests - 1; i++) {
      const body =
        i % 2 === 0 ? { purpose: 'sms', answer: 'yes', wordingVersion: `w${i}` } : { purpose: 'sms', answer: 'no' };
      expect((await api.post(path, body, noKey)).status).to.equal(200);
    }
    const head = await ledger.store.headPosition();
    for (const refused of [
      await api.post(path, { purpose: 'sms', answer: 'yes', wordingVersion: 'w-late' }, noKey),
      await api.get(path, noKey),
    ]) {
      expect(refused.status, refused.text).to.equal(429);
      expect(refused.type).to.match(/^application\/problem\+json/);
      expect(Number(refused.headers.get('retry-after'))).to.be.within(1, 60);
      expect(refused.body.retryAfter).to.equal(Number(refused.headers.get('retry-after')));
    }
    expect(await ledger.store.headPosition()).to.equal(head);
    const elsewhere = await api.post(other, { purpose: 'sms', answer: 'yes', wordingVersion: 'w-other' }, noKey);
    expect(elsewhere.status, elsewhere.text).to.equal(200);
    expect(await ledger.store.headPosition()).to.equal(head + 1);
  });

  const refusals: Array<[string, unknown, number, RegExp]> = [
    ['a "yes" without the wording shown', { purpose: 'newsletter', answer: 'yes' }, 400, /wordingVersion/],
    ['an answer that is neither yes nor no', { purpose: 'newsletter', answer: 'maybe' }, 400, /answer/],
    ['a purpose not configured', { purpose: 'lottery', answer: 'no' }, 422, /not configured/],
    [
      'a refused legal basis given again',
      { purpose: 'interest', answer: 'yes', wordingVersion: 'v1' },
      422,
      /legal basis interest was refused/,
    ],
  ];
  for (const [what, body, status, message] of refusals) {
    it(`refuses ${what} (${status}) and appends nothing`, async () => {
      const { path } = await newLink();
      const head = await ledger.store.headPosition();
      const answer = await api.post(path, body, noKey);
      expect(answer.status, answer.text).to.equal(status);
      expect(answer.text).to.match(message);
      expect(await ledger.store.headPosition()).to.equal(head);
    });
  }

  it('a forged or altered token is unknown (404); a link is no API key (401)', async () => {
    const { token } = await newLink();
    const altered = token.slice(0, -2) + (token.endsWith('AA') ? 'BB' : 'AA');
    expect((await api.get(`/v1/consent-links/${altered}`, noKey)).status).to.equal(404);
    expect((await api.get('/v1/consent-links/cl1.bm90LWEtdG9rZW4', noKey)).status).to.equal(404);
    expect((await api.get('/v1/purposes', { authorization: `Bearer ${token}` })).status).to.equal(401);
  });

  it('an expired link is gone (410), for reading and answering', async () => {
    const { path } = await newLink(p.contactId, { days: 1 });
    const realNow = ledger.now;
    ledger.now = () => new Date(Date.now() + 2 * 86_400_000);
    try {
      const gone = await api.get(path, noKey);
      expect(gone.status).to.equal(410);
      expect(gone.body.detail).to.match(/expired/);
      expect((await api.post(path, { purpose: 'newsletter', answer: 'no' }, noKey)).status).to.equal(410);
    } finally {
      ledger.now = realNow;
    }
  });

  it('ledger consents link gives a working token; every link dies when the person is forgotten', async () => {
    const q = person();
    expect((await api.post('/v1/events', registered(q))).status).to.equal(201);
    const printed = runCli(['consents', 'link', q.contactId, '--days', '3', '--json'], ledger.env);
    expect(printed.status, printed.stderr).to.equal(0);
    const { token } = JSON.parse(printed.stdout) as { token: string };
    const path = `/v1/consent-links/${token}`;
    issued.push(token);
    expect((await api.get(path, noKey)).status).to.equal(200);
    await forgetContact(ledger, q.contactId, { reason: 'request', requestId: 'REQ-L' });
    expect((await api.get(path, noKey)).status).to.equal(410);
    expect((await api.post(path, { purpose: 'newsletter', answer: 'no' }, noKey)).status).to.equal(410);
    expect((await api.post(`/v1/contacts/${q.contactId}/consent-link`, {})).status).to.equal(410);
    expect((await api.post('/v1/contacts/C-NOBODY/consent-link', {})).status).to.equal(404);
  });

  // Last: every request above was logged by its route pattern, and no line holds a token.
  it('logs no token, whatever the answer (200, 404, 410, 429)', () => {
    expect(logged.filter((line) => line.includes('/v1/consent-links/:token'))).not.to.be.empty;
    for (const token of issued) expect(logged.filter((line) => line.includes(token))).to.deep.equal([]);
  });
});
