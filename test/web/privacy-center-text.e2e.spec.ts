import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { appendSealed } from '../../src/app/append-sealed.js';
import { issueConsentLink } from '../../src/app/consent-links.js';
import type { EventType } from '../../src/domain/catalog.js';
import { person, registered } from '../support/events.js';
import { startApi, type Api } from '../support/http.js';
import { openTestLedger, type TestLedger } from '../support/ledger.js';
import { browserOf, csrfOf } from '../support/privacy-pages.js';
import { contactView } from '../../src/app/contact-view.js';

/**
 * The text rules on the person's own page: characters they cannot see (typed, or stored before a
 * rule) are taken out, never a refusal they could not act on.
 */
describe('privacy center: text the rules refuse, invisible to the person', function () {
  this.timeout(120_000);
  let ledger: TestLedger;
  let api: Api;
  let browser: ReturnType<typeof browserOf>;

  before(async () => {
    ledger = await openTestLedger();
    api = await startApi(ledger);
    browser = browserOf(api, ledger);
  });
  after(async () => {
    await api.close();
    await ledger.dispose();
  });

  /** A contact registered before the rule: a street with a BEL, a first name with an override. */
  async function registeredBeforeTheRule() {
    const p = person();
    const old = registered(p);
    old.data.firstName = 'Zo\u202Eé';
    old.data.address.street = '12 rue\u0007 des Lilas';
    await appendSealed(ledger, [{ ...old, id: randomUUID(), type: old.type as EventType }]);
    await ledger.runner.catchUp();
    return p;
  }

  it('their view and their export answer as documented (what is read is shown as stored)', async () => {
    const p = await registeredBeforeTheRule();
    // startApi checks every answer against the API document: a mismatch throws here.
    expect((await api.get(`/v1/contacts/${p.contactId}`)).status).to.equal(200);
    expect((await api.get(`/v1/contacts/${p.contactId}/export`)).status).to.equal(200);
  });

  it('the person can still correct their town when the street held was stored before the rule', async () => {
    const p = await registeredBeforeTheRule();
    const { token } = await issueConsentLink(ledger, p.contactId);
    const path = `/privacy/${token}`;
    const form = await browser.get(`${path}/details?lang=en`);
    // The form as the browser posts it: every field as it was shown, the town changed.
    const fields = Object.fromEntries(
      [...form.html.matchAll(/<input[^>]*name="(\w+)"[^>]*value="([^"]*)"/g)].map(([, name, value]) => [
        name!,
        value!.replaceAll('&amp;', '&').replaceAll('&quot;', '"'),
      ]),
    );
    const saved = await browser.post(`${path}/details`, {
      ...fields,
      csrf: csrfOf(form.html),
      lang: 'en',
      town: 'Villeurbanne',
    });
    expect(saved.status, saved.html.match(/<a href="#[^"]+">[^<]*/g)?.join(' | ')).to.equal(303);
    const { details } = await contactView(ledger, p.contactId);
    expect(details.address).to.include({ street: '12 rue des Lilas', town: 'Villeurbanne' });
  });

  it('a name typed with an invisible override is saved without it; one wrapped in isolates as it is', async () => {
    const { path, p } = await browser.newPerson();
    for (const [typed, saved] of [
      ['Zo\u202Eé', 'Zoé'],
      ['\u2068محمد\u2069', '\u2068محمد\u2069'],
    ] as const) {
      const form = await browser.get(`${path}/details?lang=en`);
      const answer = await browser.post(`${path}/details`, { csrf: csrfOf(form.html), lang: 'en', firstName: typed });
      expect(answer.status, answer.html).to.equal(303);
      expect((await contactView(ledger, p.contactId)).details.firstName).to.equal(saved);
    }
  });
});
