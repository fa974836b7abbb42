import { expect } from 'chai';
import { startApi, type Api } from '../support/http.js';
import { openTestLedger, type TestLedger } from '../support/ledger.js';

/** LEDGER_MAX_BODY bounds every request body, a route's own limit included (README). */
describe('body limits: a route of its own limit under a smaller LEDGER_MAX_BODY', function () {
  this.timeout(60_000);
  let ledger: TestLedger;
  let api: Api;
  before(async () => {
    ledger = await openTestLedger();
    api = await startApi(ledger, 1024); // LEDGER_MAX_BODY=1024
  });
  after(async () => {
    await api.close();
    await ledger.dispose();
  });

  it('a body past the configured limit is refused where the route takes more (text-guard: 64 KiB)', async () => {
    const response = await api.post('/v1/text-guard', { text: 'x'.repeat(4000) });
    expect(response.status).to.equal(413);
    expect(response.body.detail).to.equal('the request body is larger than the configured limit (LEDGER_MAX_BODY)');
  });
});
