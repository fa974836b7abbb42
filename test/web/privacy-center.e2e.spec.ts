import { expect } from 'chai';
import { pino } from 'pino';
import { openTestLedger, type TestLedger } from '../support/ledger.js';
import { startApi, type Api } from '../support/http.js';
import { configureTestPurposes } from '../support/events.js';
import { browserOf, csrfOf } from '../support/privacy-pages.js';
import { configurePurpose } from '../../src/app/purposes.js';
import { forgetContact } from '../../src/app/forget-contact.js';
import { CONSENT_LINK_LIMIT } from '../../src/api/rate-limit.js';

/** The privacy center's page (issue 26), as a browser without JavaScript drives it: GETs and form POSTs. */
describe('privacy center: the person’s page (HTML, no JavaScript)', function () {
  this.timeout(120_000);
  let ledger: TestLedger;
  let api: Api;
  const logged: string[] = [];
  const issued: string[] = [];

  before(async () => {
    ledger = await openTestLedger();
    api = await startApi(ledger, undefined, pino({ level: 'trace' }, { write: (line: string) => logged.push(line) }));
    await configureTestPurposes(ledger);
    await configurePurpose(ledger, 'interest', { kind: 'legalBasis', channel: 'all' });
  });
  after(async () => {
    await api.close();
    await ledger.dispose();
  });

  /** A registered person and the path of their page. */
  const newPerson = async () => {
    const created = await browser().newPerson();
    issued.push(created.token);
    return created;
  };
  const browser = () => browserOf(api, ledger);
  const get = (path: string, language?: string) => browser().get(path, language);
  const browse = (path: string, init?: RequestInit) => browser().browse(path, init);
  const submit = (path: string, fields: Record<string, string>) => browser().post(`${path}/consents`, fields);
  const consentsOf = async (contactId: string) => (await api.get(`/v1/contacts/${contactId}`)).body.consents;

  it('shows each purpose in French, or in English as the browser asks or the switch says, nothing ticked', async () => {
    const { p, path } = await newPerson();
    const french = await get(path);
    expect(french.status).to.equal(200);
    expect(french.headers.get('content-type')).to.match(/^text\/html/);
    expect(french.html).to.match(/^<!doctype html><html lang="fr">/);
    expect(french.html).to.include('Vos consentements').and.include('Donner mon accord');
    for (const code of ['newsletter', 'sms', 'interest']) expect(french.html).to.include(`id="purpose-${code}"`);
    expect(french.html).to.include('Je m’y oppose'); // the legal basis: objected to, never given
    expect(french.html).not.to.match(/checked|<script/);
    expect(french.html).to.include('href="?lang=en"');
    // Their own details are shown to them (the link is the proof); the ledger's ids are not.
    expect(french.html).to.include(p.email).and.include(p.lastName).and.include(p.firstName);
    expect(french.html).not.to.include(p.contactId);

    const english = await get(path, 'en-GB,en;q=0.9');
    expect(english.html).to.include('<html lang="en">').and.include('Your consents').and.include('Give my consent');
    const switched = await get(`${path}?lang=en`);
    expect(switched.html).to.include('<html lang="en">');
    expect((await get(path, 'de-DE,en;q=0.5')).html).to.include('<html lang="en">');
    expect((await get(path, 'de-DE')).html).to.include('<html lang="fr">');
  });

  it('gives a consent from the page: the event appended (source portal, IP), 303 to the page, the banner', async () => {
    const { p, path } = await newPerson();
    const page = await get(path);
    const head = await ledger.store.headPosition();
    const given = await submit(path, { csrf: csrfOf(page.html), purpose: 'newsletter', answer: 'yes', lang: 'fr' });
    expect(given.status).to.equal(303);
    expect(given.headers.get('location')).to.equal(`${path}?lang=fr&done=given&purpose=newsletter`);
    expect(await ledger.store.headPosition()).to.equal(head + 1);
    const consent = (await consentsOf(p.contactId)).newsletter;
    expect(consent.status).to.equal('yes');
    expect(consent.evidence).to.include({
      source: 'portal',
      wordingVersion: 'privacy-center-fr-1',
      ipAddress: '127.0.0.1',
    });
    const after = await get(given.headers.get('location')!);
    expect(after.html).to.include('role="status"').and.include('Vous avez donné votre accord pour « newsletter »');
    // Given: the one action left is to withdraw it.
    expect(after.html).to.match(/id="purpose-newsletter"[^]*Retirer mon accord[^]*<\/section>/);
  });

  it('withdraws a consent, objects to a legal basis (English); an answer changing nothing appends none', async () => {
    const { p, path } = await newPerson();
    const csrf = csrfOf((await get(path, 'en')).html);
    expect((await submit(path, { csrf, purpose: 'sms', answer: 'yes', lang: 'en' })).status).to.equal(303);
    const head = await ledger.store.headPosition();
    const withdrawn = await submit(path, { csrf, purpose: 'sms', answer: 'no', lang: 'en' });
    expect(withdrawn.status).to.equal(303);
    expect((await get(withdrawn.headers.get('location')!)).html).to.include('You withdrew your consent to “sms”');
    expect((await submit(path, { csrf, purpose: 'sms', answer: 'no', lang: 'en' })).status).to.equal(303);
    expect((await submit(path, { csrf, purpose: 'interest', answer: 'no', lang: 'en' })).status).to.equal(303);
    expect(await ledger.store.headPosition()).to.equal(head + 2);
    const consents = await consentsOf(p.contactId);
    expect(consents.sms.status).to.equal('no');
    expect(consents.interest.status).to.equal('no');
    expect(consents.sms.evidence).to.include({ source: 'portal' });
  });

  it('refuses a form without its CSRF token, or with another link’s, with 403 and appends nothing', async () => {
    const { path } = await newPerson();
    const { path: other } = await newPerson();
    const otherCsrf = csrfOf((await get(other)).html);
    const head = await ledger.store.headPosition();
    for (const fields of <Array<Record<string, string>>>[
      { purpose: 'newsletter', answer: 'yes' },
      { csrf: '', purpose: 'newsletter', answer: 'yes' },
      { csrf: otherCsrf, purpose: 'newsletter', answer: 'yes' },
      { csrf: otherCsrf.slice(0, -1) + (otherCsrf.endsWith('A') ? 'B' : 'A'), purpose: 'newsletter', answer: 'yes' },
    ]) {
      const refused = await submit(path, fields);
      expect(refused.status).to.equal(403);
      expect(refused.html).to.include('n’a pas été enregistré');
    }
    expect(await ledger.store.headPosition()).to.equal(head);
  });

  it('says what is wrong with a form in an error summary at the top (GOV.UK), and appends nothing', async () => {
    const { path } = await newPerson();
    const csrf = csrfOf((await get(path)).html);
    const head = await ledger.store.headPosition();
    const cases: Array<[Record<string, string>, string, string]> = [
      [{ purpose: 'newsletter', answer: 'maybe' }, '#purpose-newsletter', 'Choisissez de donner ou de retirer'],
      [{ purpose: 'lottery', answer: 'yes' }, '#main', 'Ce traitement n’existe pas'],
      [{ purpose: 'interest', answer: 'yes' }, '#purpose-interest', 'Ce traitement ne demande pas votre accord'],
    ];
    for (const [fields, href, text] of cases) {
      const refused = await submit(path, { csrf, lang: 'fr', ...fields });
      expect(refused.status).to.equal(400);
      expect(refused.html).to.match(/<main[^>]*><div class="error-summary" role="alert"/);
      expect(refused.html).to.include(`<a href="${href}">${text}`);
      expect(refused.html).to.include('<title>Il y a un problème');
    }
    expect(await ledger.store.headPosition()).to.equal(head);
  });

  it('answers a forged link 404 and a forgotten person’s link 410, each a neutral page in their language', async () => {
    const forged = await get('/privacy/cl1.bm90LWEtdG9rZW4', 'en');
    expect(forged.status).to.equal(404);
    expect(forged.html).to.include('<html lang="en">').and.include('This link is not valid');
    const { p, path, token } = await newPerson();
    const csrf = csrfOf((await get(path)).html);
    await forgetContact(ledger, p.contactId, { reason: 'request', requestId: 'REQ-P' });
    for (const [answer, language, text] of [
      [await get(path), 'fr', 'Ce lien ne fonctionne plus.'],
      [await get(`${path}?lang=en`), 'en', 'This link no longer works.'],
      [await submit(path, { csrf, purpose: 'newsletter', answer: 'yes', lang: 'fr' }), 'fr', 'ne fonctionne plus'],
    ] as const) {
      expect(answer.status).to.equal(410);
      expect(answer.html).to.include(`<html lang="${language}">`).and.include(text);
      for (const personal of [p.email, p.lastName, p.firstName, p.contactId, token, 'newsletter']) {
        expect(answer.html).not.to.include(personal);
      }
    }
  });

  it('answers an expired link 410 (ask for a new one), and a link past its budget 429 with Retry-After', async () => {
    const { path } = await newPerson();
    const realNow = ledger.now;
    ledger.now = () => new Date(Date.now() + 31 * 86_400_000);
    try {
      const expired = await get(path, 'en');
      expect(expired.status).to.equal(410);
      expect(expired.html).to.include('This link has expired. Ask us for a new one.');
    } finally {
      ledger.now = realNow;
    }
    for (let i = 1; i < CONSENT_LINK_LIMIT.requests; i++) expect((await get(path)).status).to.equal(200);
    const refused = await get(path);
    expect(refused.status).to.equal(429);
    expect(Number(refused.headers.get('retry-after'))).to.be.within(1, 60);
    expect(refused.html).to.include('<html lang="fr">').and.include('Trop de demandes');
    expect(refused.headers.get('content-security-policy')).to.match(/^default-src 'none'/);
  });

  it('marks a purpose’s wording in the other language with its lang (WCAG 3.1.2)', async () => {
    await configurePurpose(ledger, 'english-only', {
      kind: 'consent',
      channel: 'email',
      labels: { en: { name: 'Members’ letter', description: 'News for members' } },
    });
    const { path } = await newPerson();
    const french = (await get(path)).html;
    expect(french).to.include('<h3 id="purpose-english-only-name" lang="en">Members’ letter</h3>');
    expect(french).to.include('<p class="hint" lang="en">News for members</p>');
    const english = (await get(path, 'en')).html;
    expect(english).to.include('<h3 id="purpose-english-only-name">Members’ letter</h3>');
  });

  it('opens a link only as it was issued: a spelling of the same bytes is another budget no one may have', async () => {
    const { token } = await newPerson();
    const [head, tail] = [token.slice(0, 20), token.slice(20)];
    // base64url decoding skips what is not of its alphabet, and padding: each of these decodes to the token's bytes.
    for (const variant of [`${token}=`, `${head}!${tail}`, `${head}%20${tail}`, `${head}.${tail}`]) {
      expect((await get(`/privacy/${variant}`)).status, variant).to.equal(404);
    }
    expect((await get(`/privacy/${token}`)).status).to.equal(200);
  });

  it('sends its security headers on every page and answer: strict CSP, no referrer, no store', async () => {
    const { path } = await newPerson();
    const csrf = csrfOf((await get(path)).html);
    const answers = [
      await get(path),
      await submit(path, { csrf, purpose: 'newsletter', answer: 'no', lang: 'fr' }),
      await submit(path, { purpose: 'newsletter', answer: 'no' }),
      await get('/privacy/cl1.forged'),
      await get('/privacy/cl1.forged/elsewhere'),
    ];
    for (const { headers } of answers) {
      expect(headers.get('content-security-policy')).to.equal(
        "default-src 'none'; style-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
      );
      expect(headers.get('referrer-policy')).to.equal('no-referrer');
      expect(headers.get('cache-control')).to.equal('no-store');
      expect(headers.get('x-frame-options')).to.equal('DENY');
    }
    const css = await browse('/assets/privacy-center.css');
    expect(css.status).to.equal(200);
    expect(css.headers.get('content-type')).to.match(/^text\/css/);
    expect((await browse('/assets/..%2Fpages%2Flayout.tsx')).status).to.equal(404);
  });

  // Last: every request above was logged by its route pattern, and no line holds a token.
  it('logs the route pattern, never the token', () => {
    expect(logged.some((line) => line.includes('"route":"/privacy/:token"'))).to.equal(true);
    expect(logged.some((line) => line.includes('"route":"/privacy/:token/consents"'))).to.equal(true);
    for (const token of issued) expect(logged.filter((line) => line.includes(token))).to.deep.equal([]);
  });
});
