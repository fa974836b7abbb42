import { publish } from '../../src/app/publish.js';
import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { openTestLedger, type TestLedger } from '../support/ledger.js';
import { startApi, type Api } from '../support/http.js';
import { person, registered, ticketSold } from '../support/events.js';
import { appendSealed } from '../../src/app/append-sealed.js';
import { forgetContact } from '../../src/app/forget-contact.js';
import type { EventType } from '../../src/domain/catalog.js';

/**
 * What an anonymization or a purge keeps in clear (country, town, postcode; a beneficiary's country)
 * is a place and nothing else: refused at publish otherwise, and never copied when stored before.
 */
describe('the clear parts of an address over POST /v1/events', function () {
  this.timeout(60_000);
  let ledger: TestLedger;
  let api: Api;
  before(async () => {
    ledger = await openTestLedger();
    api = await startApi(ledger);
  });
  after(async () => {
    await api.close();
    await ledger.dispose();
  });

  const email = 'jeanne.martin@example.org';
  const phone = '0612345678';
  const withAddress = (address: Record<string, string>) => {
    const p = person();
    const event = registered(p);
    return { ...event, data: { ...event.data, address: { ...event.data.address, ...address } } };
  };
  const cases: Array<[string, () => Record<string, unknown>, string[]]> = [
    [
      'a registration whose town is an e-mail and postcode a phone number',
      () => withAddress({ town: email, postcode: phone }),
      ['/data/address/town', '/data/address/postcode'],
    ],
    [
      'a rectification whose town is free text',
      () => ({
        ...registered(person()),
        type: 'ContactDetailsChanged',
        data: { address: { town: `Lyon, call ${phone}`, country: 'FR' } },
      }),
      ['/data/address/town'],
    ],
    ['a registration whose country is not a code', () => withAddress({ country: 'France' }), ['/data/address/country']],
    [
      "a sale whose beneficiary's country is an e-mail",
      () => {
        const sale = ticketSold(person(), 'O-place');
        return { ...sale, data: { ...sale.data, beneficiary: { firstName: 'Jeanne', address: { country: email } } } };
      },
      ['/data/beneficiary/address/country'],
    ],
  ];
  for (const [what, event, pointers] of cases) {
    it(`${what}: 400 naming the fields, never quoting them, nothing appended`, async () => {
      const head = await ledger.store.headPosition();
      const response = await api.post('/v1/events', { events: [registered(person()), event()] });
      expect(response.status, response.text).to.equal(400);
      expect(response.body.errors.map((error: { pointer: string }) => error.pointer)).to.have.members(pointers);
      for (const error of response.body.errors) expect(error).to.include({ index: 1 });
      for (const value of [email, phone, 'France']) expect(response.text).not.to.contain(value);
      expect(await ledger.store.headPosition()).to.equal(head);
    });
  }

  it('a place name with its district number, a postcode and a code are appended', async () => {
    const response = await api.post('/v1/events', withAddress({ town: 'Paris 8e', postcode: '75008', country: 'FR' }));
    expect(response.status, response.text).to.equal(201);
  });

  it("an address stored before the rule: a customer's anonymization copies only the parts that pass", async () => {
    const p = person();
    const old = withAddress({ town: email, postcode: phone, country: 'CH' });
    await appendSealed(ledger, [
      { ...old, id: randomUUID(), contactId: p.contactId, type: old.type as EventType, occurredAt: old.occurredAt },
    ]);
    await publish(ledger, ticketSold(p, `O-places-${p.contactId}`)); // a customer: anonymized, not erased
    const { forgettingEvent } = await forgetContact(ledger, p.contactId, { reason: 'request', requestId: 'R-old' });
    expect(forgettingEvent.data['retained']).to.deep.equal({ country: 'CH' });
    const stored = JSON.stringify(await ledger.store.readStream(`contact-${p.contactId}`));
    for (const value of [email, phone]) expect(stored).not.to.contain(value);
  });
});
