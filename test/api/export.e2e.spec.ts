import { expect } from 'chai';
import { openTestLedger, type TestLedger } from '../support/ledger.js';
import { startApi, type Api } from '../support/http.js';
import { runCli } from '../support/cli.js';
import {
  consentGiven,
  person,
  personalValues,
  registered,
  ticketSold,
  type Person,
  configureTestPurposes,
} from '../support/events.js';
import { publish } from '../../src/app/publish.js';
import { forgetContact } from '../../src/app/forget-contact.js';

/** A contact with every kind of personal data an export must show. */
const history = (p: Person) => [
  registered(p),
  ticketSold(p, `O-${p.contactId}`, '2024-06-15T20:00:00Z'),
  { ...consentGiven(p), data: { ...consentGiven(p).data, operatorName: `Agent ${p.lastName}`, evidenceNote: 'desk' } },
  {
    type: 'NoteAdded',
    contactId: p.contactId,
    organizationId: 'ORG-A',
    occurredAt: '2024-03-01T10:00:00Z',
    data: { noteId: 'N-1', text: `Prefers aisle seats ${p.lastName}` },
  },
  {
    type: 'RemarkSet',
    contactId: p.contactId,
    organizationId: 'ORG-A',
    occurredAt: '2024-03-02T10:00:00Z',
    data: { text: `Season ticket holder ${p.lastName}` },
  },
  {
    type: 'CriterionChanged',
    contactId: p.contactId,
    organizationId: 'ORG-A',
    occurredAt: '2024-03-03T10:00:00Z',
    data: { criterion: 'favourite-genre', value: 'baroque' },
  },
];

describe('GET /v1/contacts/:id/export and ledger export (right of access and portability)', function () {
  this.timeout(120_000);
  let ledger: TestLedger;
  let api: Api;
  const [kept, forgotten] = [person(), person()];
  before(async () => {
    ledger = await openTestLedger();
    await configureTestPurposes(ledger);
    api = await startApi(ledger);
    await publish(ledger, { events: [...history(kept), ...history(forgotten)] });
    const forgetting = await forgetContact(ledger, forgotten.contactId, { reason: 'request', requestId: 'R-9' });
    await ledger.shredder.shredFor(forgetting.forgettingEvent);
    await ledger.runner.catchUp();
  });
  after(async () => {
    await api.close();
    await ledger.dispose();
  });

  it('holds everything about the person, readable, with the notice in a header and a field', async () => {
    const response = await api.get(`/v1/contacts/${kept.contactId}/export`);
    expect(response.status).to.equal(200);
    expect(response.headers.get('x-privacy-notice')).to.match(/personal data/);
    expect(response.headers.get('cache-control')).to.equal('no-store');
    const exported = response.body;
    expect(exported.notice).to.match(/GDPR art\. 15 and 20/);
    expect(exported.contact.details).to.deep.include({
      firstName: kept.firstName,
      email: kept.email,
      phone: kept.phone,
    });
    expect(exported.contact.notes.map((note: { text: string }) => note.text)).to.deep.equal([
      `Prefers aisle seats ${kept.lastName}`,
    ]);
    expect(exported.contact.remark).to.equal(`Season ticket holder ${kept.lastName}`);
    expect(exported.contact.criteria).to.deep.equal({ 'favourite-genre': 'baroque' });
    expect(Object.keys(exported.contact.orders)).to.deep.equal([`O-${kept.contactId}`]);
    expect(exported.contact.recency).to.include({ date: '2024-06-15T20:00:00.000Z' });
    expect(exported.consentEvidence).to.have.length(1);
    expect(exported.consentEvidence[0].data).to.deep.include({
      purpose: 'newsletter',
      source: 'portal',
      wordingVersion: 'v3',
      ipAddress: kept.ip,
      operatorName: `Agent ${kept.lastName}`,
      evidenceNote: 'desk',
    });
    expect(exported.timeline).to.have.length(6);
    expect(exported.timeline[1].data.beneficiary).to.deep.equal({ firstName: `Guest${kept.firstName}` });
    expect(exported.timeline[1].data.answers).to.deep.equal([
      { questionType: 'text', value: `Allergic to ${kept.lastName}` },
    ]);
  });

  it("names a buyer's beneficiaries, withholds their contact details (art. 15(4)); operators see them", async () => {
    const buyer = person();
    const guest = { email: `guest.${buyer.contactId}@example.net`, street: `7 rue du Guest ${buyer.contactId}` };
    const sale = ticketSold(buyer, `O-guest-${buyer.contactId}`);
    const beneficiary = {
      firstName: `Guestfirst${buyer.contactId}`,
      lastName: `Guestlast${buyer.contactId}`,
      email: guest.email,
      address: { street: guest.street, town: 'Nantes', postcode: '44000', country: 'FR' },
    };
    const answers = [
      { questionType: 'email', value: guest.email },
      { questionType: 'address', value: guest.street },
      { questionType: 'text', value: 'wheelchair access' },
    ];
    await publish(ledger, { events: [registered(buyer), { ...sale, data: { ...sale.data, beneficiary, answers } }] });

    const exported = await api.get(`/v1/contacts/${buyer.contactId}/export`);
    expect(exported.status).to.equal(200);
    for (const value of [guest.email, guest.street, 'Nantes', '44000']) expect(exported.text).not.to.contain(value);
    const sold = exported.body.timeline.find((event: { type: string }) => event.type === 'TicketSold');
    expect(sold.data.beneficiary).to.deep.equal({ firstName: beneficiary.firstName, lastName: beneficiary.lastName });
    expect(sold.data.answers).to.deep.equal([{ questionType: 'email' }, { questionType: 'address' }, answers[2]]);
    expect(sold).to.deep.include({
      personal: 'open',
      withheld: ['beneficiary/email', 'beneficiary/address', 'answers/0/value', 'answers/1/value'],
      withheldBecause: 'another-person',
    });
    expect(exported.body.withheld['another-person']).to.match(/art\. 15\(4\)/);
    expect(exported.body.contact.details.email, "the buyer's own details stay").to.equal(buyer.email);

    const timeline = await api.get(`/v1/contacts/${buyer.contactId}/events`);
    for (const value of [guest.email, guest.street]) expect(timeline.text).to.contain(value);
  });

  it('of a forgotten person holds nothing personal: only the retained place and the forgetting', async () => {
    const response = await api.get(`/v1/contacts/${forgotten.contactId}/export`);
    expect(response.status).to.equal(200);
    for (const value of [
      ...personalValues(forgotten),
      `Guest${forgotten.firstName}`,
      'Prefers aisle seats',
      'Season ticket',
    ]) {
      expect(response.text).not.to.contain(value);
    }
    expect(response.body.contact.status).to.equal('anonymized');
    expect(response.body.contact.retained).to.deep.equal({ country: 'FR', town: 'Lyon', postcode: '69001' });
    expect(response.body.timeline.filter((event: { personal: string }) => event.personal === 'erased')).to.have.length(
      6,
    );
  });

  it("a forgotten requester's export and timeline withhold the request's evidence; one's own is one's", async () => {
    const evidence = 'letter signed by Jeanne Martin, 12 rue X';
    const [requester, keptRequester] = [person(), person()];
    await publish(ledger, { events: [...history(requester), ...history(keptRequester)] });
    const ask = async (p: Person) =>
      (await api.post('/v1/erasure-requests', { contactId: p.contactId, channel: 'post', evidence })).body
        .requestId as string;
    const requestId = await ask(requester);
    await ask(keptRequester);
    expect((await api.post(`/v1/erasure-requests/${requestId}/execute`, {})).status).to.equal(200);
    // Read before the shredder reaction ran: the log decides what a reader opens, not the key cache.
    const exported = await api.get(`/v1/contacts/${requester.contactId}/export`);
    const timeline = await api.get(`/v1/contacts/${requester.contactId}/events`);
    const cli = runCli(['export', requester.contactId], ledger.env);
    expect(cli.status, cli.stderr).to.equal(0);
    for (const text of [exported.text, timeline.text, cli.stdout]) {
      for (const value of [...personalValues(requester), `Guest${requester.firstName}`, 'Jeanne', '12 rue X']) {
        expect(text).not.to.contain(value);
      }
    }
    const requested = timeline.body.events.find((event: { type: string }) => event.type === 'ErasureRequested');
    expect(requested).to.deep.include({
      personal: 'withheld',
      withheld: ['evidence'],
      withheldBecause: 'request-evidence',
      data: { requestId, channel: 'post' },
    });
    expect(exported.body.withheld['request-evidence']).to.match(/GET \/v1\/erasure-requests\/:id/);
    const own = await api.get(`/v1/contacts/${keptRequester.contactId}/export`);
    const ownRequest = own.body.timeline.find((event: { type: string }) => event.type === 'ErasureRequested');
    expect(ownRequest).to.deep.include({
      personal: 'open',
      data: { requestId: ownRequest.data.requestId, channel: 'post', evidence },
    });
  });

  it('ledger export prints the same document', () => {
    const cli = runCli(['export', kept.contactId], ledger.env);
    expect(cli.status, cli.stderr).to.equal(0);
    expect(cli.stderr).to.match(/GDPR art\. 15 and 20/);
    return api.get(`/v1/contacts/${kept.contactId}/export`).then((response) => {
      const { exportedAt: _a, ...fromCli } = JSON.parse(cli.stdout);
      const { exportedAt: _b, ...fromApi } = response.body;
      expect(fromCli).to.deep.equal(fromApi);
    });
  });

  it('an unknown contact is a 404; an id that is an e-mail address is a 400 that does not echo it', async () => {
    expect((await api.get('/v1/contacts/C-nobody/export')).status).to.equal(404);
    const bad = await api.get(`/v1/contacts/${kept.email}/export`);
    expect(bad.status).to.equal(400);
    expect(bad.text).not.to.contain(kept.email);
  });
});
