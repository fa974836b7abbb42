import { publish } from '../../src/app/publish.js';
import { expect } from 'chai';
import { openTestLedger, type TestLedger } from '../support/ledger.js';
import { startApi, type Api } from '../support/http.js';

const at = (date: string) => `${date}T00:00:00.000Z`;
const registered = (contactId: string, date: string, role = 'individual') => ({
  type: 'ContactRegistered',
  contactId,
  organizationId: 'ORG-A',
  occurredAt: at(date),
  data: { role },
});
/** One contact of each role but individual, older than every date the tests list before. */
const OTHER_ROLES: Array<[string, string]> = [
  ['R-1', 'relay'],
  ['S-1', 'structure'],
  ['P-1', 'supplier'],
  ['G-1', 'guide'],
];

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
    events.push(...OTHER_ROLES.map(([contactId, role], i) => registered(contactId, `2019-12-0${1 + i}`, role)));
    await publish(ledger, { events });
    await ledger.runner.catchUp();
  });
  after(async () => {
    await api.close();
    await ledger.dispose();
  });

  it('pages individuals and relays older than the date in (recency, id) order: ids, dates, roles', async () => {
    const seen: Array<{ contactId: string; recency: string }> = [];
    let after: string | null = null;
    for (let pages = 0; pages < 10; pages++) {
      const response = await api.get(`/v1/recency?before=2020-01-06&limit=4${after ? `&after=${after}` : ''}`);
      expect(response.status).to.equal(200);
      seen.push(...response.body.items);
      for (const item of response.body.items) {
        expect(Object.keys(item)).to.have.members(['contactId', 'recency', 'role']);
        expect(item.role).to.equal(item.contactId === 'R-1' ? 'relay' : 'individual');
      }
      after = response.body.next;
      if (!after) break;
    }
    // Registered on days 1..5 (i % 10 < 5), minus C-00 and C-01 whose sale dates them in 2030.
    const expected = Array.from({ length: 25 }, (_, i) => i).filter((i) => i % 10 < 5 && i > 1);
    // By default the batch's candidates only, as the reference target "Individual Type is equal to
    // Individual" selects them: the relay, not the structure, the supplier nor the guide.
    expect(seen.map((item) => item.contactId).sort()).to.deep.equal(
      ['R-1', ...expected.map((i) => `C-${String(i).padStart(2, '0')}`)].sort(),
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

  const listed = async (query: string) => {
    const response = await api.get(`/v1/recency?${query}`);
    expect(response.status, response.text).to.equal(200);
    return response.body as { before: string; roles: string[]; items: Array<{ contactId: string; role: string }> };
  };

  it('role=all lists every role, a role or a comma list only those, each item saying its role', async () => {
    const all = await listed('before=2020-01-01&role=all');
    expect(all.items.map((item) => [item.contactId, item.role])).to.deep.equal(OTHER_ROLES);
    expect(all.roles).to.include.members(['individual', 'relay', 'structure', 'supplier', 'guide', 'contractor']);
    const some = await listed('before=2020-01-01&role=structure,guide');
    expect(some.roles).to.deep.equal(['structure', 'guide']);
    expect(some.items.map((item) => item.contactId)).to.deep.equal(['S-1', 'G-1']);
    expect((await listed('before=2020-01-01&role=supplier')).items.map((item) => item.role)).to.deep.equal([
      'supplier',
    ]);
    expect((await listed('before=2020-01-01')).roles).to.deep.equal(['individual', 'relay']);
  });

  it('pages a filtered list: the cursor goes on past the rows the filter leaves out', async () => {
    const pages: string[][] = [];
    let after: string | null = null;
    do {
      const response = await api.get(
        `/v1/recency?before=2020-01-03&role=structure,relay,guide&limit=1${after ? `&after=${after}` : ''}`,
      );
      expect(response.status, response.text).to.equal(200);
      pages.push(response.body.items.map((item: { contactId: string }) => item.contactId));
      after = response.body.next;
    } while (after && pages.length < 10);
    // The supplier between the structure and the guide, and the individuals after them, are left out.
    expect(pages).to.deep.equal([['R-1'], ['S-1'], ['G-1'], []]);
  });

  it('takes before written YYYYMMDD, as the reference target writes it (20200106 is 2020-01-06)', async () => {
    const compact = await listed('before=20200106&role=all&limit=100');
    expect(compact.before).to.equal(at('2020-01-06'));
    expect(compact).to.deep.equal(await listed('before=2020-01-06&role=all&limit=100'));
  });

  const bad: Array<[string, string, string]> = [
    ['a missing date', '/v1/recency', '/before'],
    ['an impossible date', '/v1/recency?before=2021-02-30', '/before'],
    ['an impossible compact date', '/v1/recency?before=20230230', '/before'],
    ['a compact date of the wrong length', '/v1/recency?before=2023120', '/before'],
    ['a role not in the catalog', '/v1/recency?before=2021-01-01&role=visitor', '/role'],
    ['an empty role', '/v1/recency?before=2021-01-01&role=', '/role'],
    ['all among roles', '/v1/recency?before=2021-01-01&role=all,relay', '/role'],
    ['a role given twice as parameters', '/v1/recency?before=2021-01-01&role=relay&role=guide', '/role'],
    ['a limit out of range', '/v1/recency?before=2021-01-01&limit=5000', '/limit'],
    ['a forged cursor', '/v1/recency?before=2021-01-01&after=bm90LWEtY3Vyc29y', '/after'],
  ];
  for (const [name, path, pointer] of bad) {
    it(`refuses ${name} with a 400 problem naming ${pointer.slice(1)}`, async () => {
      const response = await api.get(path);
      expect(response.status).to.equal(400);
      expect(response.type).to.match(/problem\+json/);
      expect(response.body.errors.map((error: { pointer: string }) => error.pointer)).to.deep.equal([pointer]);
    });
  }

  // 31: the API's admin key (the api-keys stream), 29 registrations and a sale.
  it('shows the projection lag in /health and /metrics', async () => {
    const health = await api.get('/health');
    expect(health.body.projection).to.deep.equal({ position: 31, head: 31, lag: 0, failed: null, logMismatch: null });
    await publish(ledger, registered('C-late', '2020-02-01'));
    expect((await api.get('/health')).body.projection).to.deep.equal({
      position: 31,
      head: 32,
      lag: 1,
      failed: null,
      logMismatch: null,
    });
    const metrics = await api.get('/metrics');
    expect(metrics.text).to.match(/^ledger_projection_lag_events 1$/m);
    expect(metrics.text).to.match(/^ledger_head_position 32$/m);
    expect(metrics.text).to.match(/^ledger_projection_failed 0$/m);
  });
});
