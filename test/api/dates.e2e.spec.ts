import { expect } from 'chai';
import { openTestLedger, type TestLedger } from '../support/ledger.js';
import { startApi, type Api, type Answer } from '../support/http.js';
import { person, registered } from '../support/events.js';
import { publish } from '../../src/app/publish.js';

/**
 * Dates that pass the RFC 3339 grammar but name no instant JavaScript can hold (a leap second),
 * or none the ledger accepts (a day that does not exist, hour 24, a year out of range once in
 * UTC): every route that takes a date answers 400 naming the field, never 500, and appends nothing.
 */
describe('dates that cannot be represented, on every route that takes one', function () {
  this.timeout(60_000);
  let ledger: TestLedger;
  let api: Api;
  const buyer = person();

  before(async () => {
    ledger = await openTestLedger();
    api = await startApi(ledger);
    await publish(ledger, registered(buyer));
    await ledger.runner.catchUp();
  });
  after(async () => {
    await api.close();
    await ledger.dispose();
  });

  const instants: Array<[string, string]> = [
    ['a leap second', '2026-06-30T23:59:60Z'],
    ['a leap second written with an offset', '2026-07-01T01:59:60+02:00'],
    ['February 30', '2026-02-30T10:00:00Z'],
    ['hour 24', '2026-06-30T24:00:00Z'],
    ['an offset of 24 hours', '2026-06-30T10:00:00+24:00'],
    ['a year after 2199 once in UTC', '2199-12-31T23:00:00-14:00'],
    ['a year out of the JavaScript range', '+275760-09-14T00:00:00Z'],
  ];
  const sale = (field: 'validFrom' | 'validUntil', value: string) => ({
    type: 'TicketSold',
    contactId: buyer.contactId,
    organizationId: 'ORG-A',
    occurredAt: '2026-01-10T09:00:00Z',
    data: {
      orderId: 'O-1',
      product: { kind: 'dated', validFrom: '2026-01-01T00:00:00Z', validUntil: '2026-12-31T00:00:00Z', [field]: value },
    },
  });
  const routes: Array<[string, (value: string) => Promise<Answer>, string]> = [
    [
      'POST /v1/events occurredAt',
      (v) => api.post('/v1/events', { ...registered(person()), occurredAt: v }),
      '/occurredAt',
    ],
    [
      'POST /v1/events product.validFrom',
      (v) => api.post('/v1/events', sale('validFrom', v)),
      '/data/product/validFrom',
    ],
    [
      'POST /v1/events product.validUntil',
      (v) => api.post('/v1/events', { events: [sale('validUntil', v)] }),
      '/data/product/validUntil',
    ],
    ['GET /v1/recency before', (v) => api.get(`/v1/recency?before=${encodeURIComponent(v)}`), '/before'],
    ['POST /v1/batches/inactive-contacts asOf', (v) => api.post('/v1/batches/inactive-contacts', { asOf: v }), '/asOf'],
    ['POST /v1/consents/expire asOf', (v) => api.post('/v1/consents/expire', { asOf: v }), '/asOf'],
    [
      'POST /v1/targeting recencyBefore',
      (v) => api.post('/v1/targeting', { campaignType: 'marketing', channel: 'email', recencyBefore: v }),
      '/recencyBefore',
    ],
  ];
  for (const [route, send, pointer] of routes) {
    for (const [what, value] of instants) {
      it(`${route}: ${what} is a 400 naming ${pointer}, and nothing is appended`, async () => {
        const head = await ledger.store.headPosition();
        const answer = await send(value);
        expect(answer.status, answer.text).to.equal(400);
        expect(answer.type).to.match(/^application\/problem\+json/);
        const pointers = (answer.body.errors as Array<{ pointer: string }>).map((issue) => issue.pointer);
        expect(pointers).to.include(pointer);
        expect(await ledger.store.headPosition()).to.equal(head);
      });
    }
  }

  it('the last second before a leap second, and the same instant with an offset, are taken', async () => {
    const answer = await api.post('/v1/events', {
      events: [
        { ...registered(person()), occurredAt: '2026-06-30T23:59:59.999Z' },
        { ...registered(person()), occurredAt: '2026-07-01T01:59:59+02:00' },
      ],
    });
    expect(answer.status, answer.text).to.equal(201);
    expect(answer.body.appended).to.have.length(2);
    const recency = await api.get(`/v1/recency?before=${encodeURIComponent('2026-07-01T01:59:59+02:00')}`);
    expect(recency.status, recency.text).to.equal(200);
    expect(recency.body.before).to.equal('2026-06-30T23:59:59.000Z');
  });
});
