import { expect } from 'chai';
import { readConfig } from '../../src/config.js';
import { configureTestPurposes } from '../support/events.js';
import { startApi, type Api } from '../support/http.js';
import { openTestLedger, type TestLedger } from '../support/ledger.js';
import { browserOf, csrfOf } from '../support/privacy-pages.js';

/**
 * LEDGER_TRUST_PROXY: behind a reverse proxy, the person's address comes from X-Forwarded-For,
 * set by the proxies trusted and by no one else (their IP is sealed as evidence, and each address
 * has its own budget of requests).
 */
describe('a ledger behind a reverse proxy (LEDGER_TRUST_PROXY)', function () {
  this.timeout(60_000);
  let ledger: TestLedger;
  const apis: Api[] = [];

  before(async () => {
    ledger = await openTestLedger();
    await configureTestPurposes(ledger);
  });
  after(async () => {
    for (const api of apis) await api.close();
    await ledger.dispose();
  });

  /** The IP address sealed with a consent given on the page, X-Forwarded-For claiming `forwarded`. */
  const sealedIpOf = async (api: Api, forwarded: string) => {
    const browser = browserOf(api, ledger);
    const { p, path } = await browser.newPerson();
    const page = await browser.get(path);
    const given = await browser.browse(`${path}/consents`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': forwarded },
      body: new URLSearchParams({
        csrf: csrfOf(page.html),
        purpose: 'newsletter',
        answer: 'yes',
        lang: 'fr',
      }).toString(),
    });
    expect(given.status).to.equal(303);
    return (await api.get(`/v1/contacts/${p.contactId}`)).body.consents.newsletter.evidence.ipAddress;
  };

  it('by default trusts no one: X-Forwarded-For is ignored, the connection’s address is the person’s', async () => {
    const api = await startApi(ledger);
    apis.push(api);
    expect(await sealedIpOf(api, '203.0.113.9')).to.equal('127.0.0.1');
  });

  it('trusting the proxy on loopback: the address it forwards is the person’s', async () => {
    const api = await startApi(ledger, undefined, undefined, { trustProxy: ['loopback'] });
    apis.push(api);
    expect(await sealedIpOf(api, '203.0.113.9')).to.equal('203.0.113.9');
    // A client that sends its own X-Forwarded-For through the proxy: the proxy's entry is last, and counts.
    expect(await sealedIpOf(api, '198.51.100.1, 203.0.113.10')).to.equal('203.0.113.10');
  });

  const read = (value: string) => readConfig({ LEDGER_DATA_DIR: '/tmp/ledger-config-spec', LEDGER_TRUST_PROXY: value });
  const cases: Array<[string, unknown]> = [
    ['', false],
    ['false', false],
    ['1', 1],
    ['loopback', ['loopback']],
    ['10.0.0.0/8, 192.168.1.5, fd00::/8', ['10.0.0.0/8', '192.168.1.5', 'fd00::/8']],
  ];
  for (const [value, expected] of cases) {
    it(`reads LEDGER_TRUST_PROXY=${JSON.stringify(value)}`, () =>
      expect(read(value).trustProxy).to.deep.equal(expected));
  }
  for (const value of ['true', '0', '11', 'proxy.example.org', '10.0.0.0/33', '10.0.0.1/8/1', 'loopback,']) {
    it(`refuses LEDGER_TRUST_PROXY=${JSON.stringify(value)}, naming what it must be`, () =>
      expect(() => read(value)).to.throw(/^LEDGER_TRUST_PROXY must be/));
  }
});
