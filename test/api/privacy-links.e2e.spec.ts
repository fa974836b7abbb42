import { expect } from 'chai';
import { openTestLedger, type TestLedger } from '../support/ledger.js';
import { startApi, type Api } from '../support/http.js';
import { runCli } from '../support/cli.js';
import { configureTestPurposes, person, registered } from '../support/events.js';
import { forgetContact } from '../../src/app/forget-contact.js';

/** The link to the person's privacy center, whole, for an upstream system's e-mail or an operator (issue 26). */
describe('privacy links: the whole address of the person’s privacy center (LEDGER_PUBLIC_URL)', function () {
  this.timeout(120_000);
  let ledger: TestLedger;
  let api: Api;
  const publicUrl = 'https://privacy.example.org';
  const p = person();

  before(async () => {
    ledger = await openTestLedger();
    api = await startApi(ledger, undefined, undefined, { publicUrl });
    await configureTestPurposes(ledger);
    expect((await api.post('/v1/events', registered(p))).status).to.equal(201);
  });
  after(async () => {
    await api.close();
    await ledger.dispose();
  });

  it('an operator gets 201 {url, token, expiresAt}, not to be cached; the url opens the person’s page', async () => {
    const head = await ledger.store.headPosition();
    const answer = await api.post(`/v1/contacts/${p.contactId}/privacy-link`, { days: 7 });
    expect(answer.status, answer.text).to.equal(201);
    expect(answer.headers.get('cache-control')).to.equal('no-store');
    const { url, token, expiresAt } = answer.body as { url: string; token: string; expiresAt: string };
    expect(Object.keys(answer.body)).to.have.members(['url', 'token', 'expiresAt']);
    expect(url).to.equal(`${publicUrl}/privacy/${token}`);
    expect(Date.parse(expiresAt) - Date.now()).to.be.within(6.9 * 86_400_000, 7 * 86_400_000);
    for (const secret of [p.contactId, p.email, p.lastName]) expect(url).not.to.include(secret);
    const page = await fetch(`${api.url}${new URL(url).pathname}`);
    expect(page.status).to.equal(200);
    expect(page.headers.get('content-type')).to.match(/^text\/html/);
    // Issuing a link records nothing: it is a signature, not an event.
    expect(await ledger.store.headPosition()).to.equal(head);
    const lasting = await api.post(`/v1/contacts/${p.contactId}/privacy-link`, {});
    expect(Date.parse(lasting.body.expiresAt) - Date.now()).to.be.within(29.9 * 86_400_000, 30 * 86_400_000);
  });

  const refusals: Array<[string, string, unknown, Record<string, string>, number]> = [
    ['an unknown contact', 'C-NOBODY', {}, {}, 404],
    ['a link of 0 days', p.contactId, { days: 0 }, {}, 400],
    ['a link of 366 days', p.contactId, { days: 366 }, {}, 400],
    ['a field the request does not have', p.contactId, { days: 3, email: p.email }, {}, 400],
    ['a caller without a key', p.contactId, {}, { authorization: '' }, 401],
  ];
  for (const [what, contactId, body, headers, status] of refusals) {
    it(`refuses ${what} (${status}) and appends nothing`, async () => {
      const head = await ledger.store.headPosition();
      const answer = await api.post(`/v1/contacts/${contactId}/privacy-link`, body, headers);
      expect(answer.status, answer.text).to.equal(status);
      expect(answer.type).to.match(/^application\/problem\+json/);
      expect(answer.text).not.to.include(p.email);
      expect(await ledger.store.headPosition()).to.equal(head);
    });
  }

  it('a forgotten person gets no link (410), and the links they had die with them', async () => {
    const q = person();
    expect((await api.post('/v1/events', registered(q))).status).to.equal(201);
    const { url } = (await api.post(`/v1/contacts/${q.contactId}/privacy-link`, {})).body as { url: string };
    await forgetContact(ledger, q.contactId, { reason: 'request', requestId: 'REQ-PL' });
    const again = await api.post(`/v1/contacts/${q.contactId}/privacy-link`, {});
    expect(again.status, again.text).to.equal(410);
    expect((await fetch(`${api.url}${new URL(url).pathname}`)).status).to.equal(410);
  });

  it('ledger consents link prints the whole URL (its trailing slash dropped), --json the link', async () => {
    const env = { ...ledger.env, LEDGER_PUBLIC_URL: 'https://privacy.example.org/' };
    const printed = runCli(['consents', 'link', p.contactId], env);
    expect(printed.status, printed.stderr).to.equal(0);
    const url = printed.stdout.trim();
    expect(url).to.match(/^https:\/\/privacy\.example\.org\/privacy\/cl1\.[\w-]+$/);
    expect((await fetch(`${api.url}${new URL(url).pathname}`)).status).to.equal(200);
    const json = runCli(['consents', 'link', p.contactId, '--days', '2', '--json'], env);
    expect(json.status, json.stderr).to.equal(0);
    const link = JSON.parse(json.stdout) as { url: string; token: string; expiresAt: string };
    expect(Object.keys(link)).to.have.members(['url', 'token', 'expiresAt']);
    expect(link.url).to.equal(`https://privacy.example.org/privacy/${link.token}`);
    // Unset: the serve port on localhost, as a development ledger is reached.
    const local = runCli(['consents', 'link', p.contactId], {
      ...ledger.env,
      LEDGER_PUBLIC_URL: undefined,
      PORT: '9191',
    });
    expect(local.stdout.trim()).to.match(/^http:\/\/localhost:9191\/privacy\/cl1\./);
  });

  it('a bad LEDGER_PUBLIC_URL or LEDGER_PRIVACY_POLICY_URL refuses the start in one line, and serves nothing', () => {
    const cases: Array<[NodeJS.ProcessEnv, RegExp]> = [
      [{ LEDGER_PUBLIC_URL: 'https://privacy.example.org/?from=mail' }, /^ledger: LEDGER_PUBLIC_URL must be .*a query/],
      [
        { LEDGER_PRIVACY_POLICY_URL: 'http://example.org/privacy' },
        /^ledger: LEDGER_PRIVACY_POLICY_URL must be an https/,
      ],
    ];
    for (const [bad, message] of cases) {
      const refused = runCli(['serve'], { ...ledger.env, PORT: '0', ...bad });
      expect(refused.status).to.equal(1);
      expect(refused.stderr).to.match(message);
      expect(refused.stderr.trim().split('\n')).to.have.length(1);
      expect(refused.stdout).to.equal('');
    }
  });
});
