import { publish } from '../../src/app/publish.js';
import { expect } from 'chai';
import { openTestLedger, type TestLedger } from '../support/ledger.js';
import { startApi, type Api } from '../support/http.js';

const at = (date: string) => `${date}T00:00:00.000Z`;
const registered = (contactId: string, date: string) => ({
  type: 'ContactRegistered',
  contactId,
  organizationId: 'ORG-A',
  occurredAt: at(date),
  data: { role: 'individual' },
});

describe('GET /v1/recency and recency in the contact view', () => {
  let ledger: TestLedger;
  let api: Api;
  before(async () => {
    ledger = await openTestLedger();
    api = await startApi(ledger);
    const events = Array.from({ length: 25 }, (_, i) =>
      registered(`C-${String(i).padStart(2, '0')}`, `2020-01-${String(1 + (i % 10)).padStart(2, '0')}`),
    );
    events.push({
      type: 'TicketSold',
      contactId: 'C-00',
      organizationId: 'ORG-B',
      occurredAt: at('2021-01-01'),
      data: { orderId: 'O-1', product: { kind: 'dated', validUntil: at('2030-06-15') }, culturalContactId: 'C-01' },
    } as never);
    await publish(ledger, { events });
    await ledger.runner.catchUp();
  });
  after(async () => {
    await api.close();
    await ledger.dispose();
  });

  it('pages contacts older than the date in (recency, id) order, ids and dates only', async () => {
    const seen: Array<{ contactId: string; recency: string }> = [];
    let after: string | null = null;
    for (let pages = 0; pages < 10; pages++) {
      const response = await api.get(`/v1/recency?before=2020-01-06&limit=4${after ? `&after=${after}` : ''}`);
      expect(response.status).to.equal(200);
      seen.push(...response.body.items);
      for (const item of response.body.items) expect(Object.keys(item)).to.have.members(['contactId', 'recency']);
      after = response.body.next;
      if (!after) break;
    }
    // Registered on days 1..5 (i % 10 < 5), minus C-00 and C-01 whose sale dates them in 2030.
    const expected = Array.from({ length: 25 }, (_, i) => i).filter((i) => i % 10 < 5 && i > 1);
    expect(seen.map((item) => item.contactId).sort()).to.deep.equal(
      expected.map((i) => `C-${String(i).padStart(2, '0')}`).sort(),
    );
    const order = seen.map((item) => `${item.recency}|${item.contactId}`);
    expect(order).to.deep.equal([...order].sort());
  });

  it('the contact view gives the exact recency, also to the cultural contact of a sale', async () => {
    const purchaser = await api.get('/v1/contacts/C-00');
    expect(purchaser.body.recency).to.deep.include({ date: at('2030-06-15'), basis: 'activity' });
    const cultural = await api.get('/v1/contacts/C-01');
    expect(cultural.body.recency).to.deep.include({ date: at('2030-06-15'), basis: 'activity' });
    expect(cultural.body.customer).to.equal(true);
    expect((await api.get('/v1/contacts/C-02')).body.recency).to.deep.include({
      date: at('2020-01-03'),
      basis: 'registration',
    });
  });

  const bad: Array<[string, string]> = [
    ['a missing date', '/v1/recency'],
    ['an impossible date', '/v1/recency?before=2021-02-30'],
    ['a limit out of range', '/v1/recency?before=2021-01-01&limit=5000'],
    ['a forged cursor', '/v1/recency?before=2021-01-01&after=bm90LWEtY3Vyc29y'],
  ];
  for (const [name, path] of bad) {
    it(`refuses ${name} with a 400 problem`, async () => {
      const response = await api.get(path);
      expect(response.status).to.equal(400);
      expect(response.type).to.match(/problem\+json/);
    });
  }

  // 27: the API's admin key (the api-keys stream), 25 registrations and a sale.
  it('shows the projection lag in /health and /metrics', async () => {
    const health = await api.get('/health');
    expect(health.body.projection).to.deep.equal({ position: 27, head: 27, lag: 0, failed: null });
    await publish(ledger, registered('C-late', '2020-02-01'));
    expect((await api.get('/health')).body.projection).to.deep.equal({ position: 27, head: 28, lag: 1, failed: null });
    const metrics = await api.get('/metrics');
    expect(metrics.text).to.match(/^ledger_projection_lag_events 1$/m);
    expect(metrics.text).to.match(/^ledger_head_position 28$/m);
    expect(metrics.text).to.match(/^ledger_projection_failed 0$/m);
  });
});
