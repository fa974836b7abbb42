import { request } from 'node:http';
import { expect } from 'chai';
import { openTestLedger, type TestLedger } from '../support/ledger.js';
import { startApi, type Api } from '../support/http.js';
import { configureTestPurposes, person, registered } from '../support/events.js';
import { issueConsentLink } from '../../src/app/consent-links.js';
import { CONSENT_LINK_LIMIT, PRIVACY_ADDRESS_LIMIT } from '../../src/api/rate-limit.js';
import { MESSAGES } from '../../src/web/messages/index.js';

/**
 * The privacy center's budget per address (issue 26, "a rate limit per link and per address"): one
 * address spends it across every link it holds; another address is unaffected. Requests come from
 * addresses of their own on the loopback network (127.0.0.0/8), as from different people.
 */
describe('privacy center: a request budget per address, besides the one per link', function () {
  this.timeout(120_000);
  let ledger: TestLedger;
  let api: Api;

  before(async () => {
    ledger = await openTestLedger();
    api = await startApi(ledger);
    await configureTestPurposes(ledger);
  });
  after(async () => {
    await api.close();
    await ledger.dispose();
  });

  const newLink = async () => {
    const p = person();
    expect((await api.post('/v1/events', registered(p))).status).to.equal(201);
    return `/privacy/${(await issueConsentLink(ledger, p.contactId)).token}`;
  };

  /** A GET of a page from `address`: its status, Retry-After and text. */
  const getFrom = (address: string, path: string) =>
    new Promise<{ status: number; retryAfter: string | undefined; html: string }>((resolve, reject) => {
      const { hostname, port } = new URL(api.url);
      const req = request({ hostname, port, path, localAddress: address, headers: { 'accept-language': 'en' } });
      req.on('error', reject);
      req.on('response', (res) => {
        let html = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (html += chunk));
        res.on('end', () => resolve({ status: res.statusCode!, retryAfter: res.headers['retry-after'], html }));
      });
      req.end();
    });

  it('a second link from an address past its budget gets 429; from another address, 200', async () => {
    const spender = '127.0.0.2';
    // Links enough that none reaches its own budget: only the address's can run out.
    const perLink = CONSENT_LINK_LIMIT.requests;
    const links = await Promise.all(
      Array.from({ length: Math.ceil(PRIVACY_ADDRESS_LIMIT.requests / perLink) }, newLink),
    );
    const second = await newLink();
    for (let n = 0; n < PRIVACY_ADDRESS_LIMIT.requests; n++) {
      const page = await getFrom(spender, links[Math.floor(n / perLink)]!);
      expect(page.status, `request ${n + 1}`).to.equal(200);
    }
    const refused = await getFrom(spender, second);
    expect(refused.status).to.equal(429);
    expect(Number(refused.retryAfter)).to.be.within(1, PRIVACY_ADDRESS_LIMIT.windowMs / 1000);
    // The page a link past its own budget gets, in the person's language.
    expect(refused.html).to.include('<html lang="en">').and.include(MESSAGES.en.notice.tooManyTitle);
    // A forged link's 404 is no way around it: the address is refused before the link is read.
    expect((await getFrom(spender, '/privacy/cl1.forged')).status).to.equal(429);

    const other = await getFrom('127.0.0.3', second);
    expect(other.status).to.equal(200);
    expect(other.html).to.include('id="purpose-newsletter"');
  });
});
