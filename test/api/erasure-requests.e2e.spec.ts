import { expect } from 'chai';
import { openTestLedger, type TestLedger } from '../support/ledger.js';
import { startApi, type Api } from '../support/http.js';
import { person, registered, ticketSold, type Person } from '../support/events.js';
import { publish } from '../../src/app/publish.js';
import { contactTimeline } from '../../src/app/contact-timeline.js';
import { runInactiveBatch } from '../../src/app/inactive-contacts-batch.js';
import { erasureRequestWithEvidence } from '../../src/app/erasure-requests.js';
import { issueApiKey } from '../../src/app/issue-api-key.js';
import type { Role } from '../../src/domain/api-keys.js';

const DAY = 86_400_000;
const envelope = (p: Person, type: string, data: Record<string, unknown>, occurredAt = '2024-03-01T10:00:00Z') => ({
  type,
  contactId: p.contactId,
  organizationId: 'ORG-A',
  occurredAt,
  data,
});

/** The erasure request workflow over HTTP (DESIGN.md "Forgetting": request, checks, execution or refusal). */
describe('erasure requests', function () {
  this.timeout(60_000);
  let ledger: TestLedger;
  let api: Api;
  const route = '/v1/erasure-requests';
  const ask = (p: Person, evidence = `Letter signed by ${p.lastName}`) =>
    api.post(route, { contactId: p.contactId, channel: 'post', evidence });
  const execute = (requestId: string) => api.post(`${route}/${requestId}/execute`, {});

  before(async () => {
    ledger = await openTestLedger();
    api = await startApi(ledger);
  });
  after(async () => {
    await api.close();
    await ledger.dispose();
  });

  const bad: Array<[string, unknown, number, RegExp]> = [
    ['an unknown contact', { contactId: 'C-nobody', channel: 'email' }, 404, /C-nobody/],
    ['an e-mail address as contact id', { contactId: 'someone@example.org', channel: 'email' }, 400, /contactId/],
    ['an unknown channel', { contactId: 'C-1', channel: 'pigeon' }, 400, /channel/],
    ['an unknown field', { contactId: 'C-1', channel: 'email', urgent: true }, 400, /urgent/],
    [
      'evidence over 4000 characters',
      { contactId: 'C-1', channel: 'email', evidence: 'x'.repeat(4001) },
      400,
      /evidence/,
    ],
    ['no contact id', { channel: 'email' }, 400, /contactId/],
  ];
  it('takes personal data in the evidence, which is sealed (a clear field would refuse it)', async () => {
    const p = person();
    await publish(ledger, registered(p));
    const answer = await api.post(route, { contactId: p.contactId, channel: 'email', evidence: `from ${p.email}` });
    expect(answer.status, answer.text).to.equal(201);
  });
  for (const [what, body, status, pointer] of bad) {
    it(`refuses a request with ${what} (${status}), appending nothing`, async () => {
      const head = await ledger.store.headPosition();
      const answer = await api.post(route, body);
      expect(answer.status, answer.text).to.equal(status);
      expect(answer.type).to.match(/^application\/problem\+json/);
      expect(answer.text).to.match(pointer);
      expect(answer.text).not.to.contain('someone@example.org');
      expect(await ledger.store.headPosition()).to.equal(head);
    });
  }

  it('records a pending request due in 30 days, listed without its evidence', async () => {
    const p = person();
    await publish(ledger, registered(p));
    const answer = await ask(p);
    expect(answer.status, answer.text).to.equal(201);
    const { requestId, requestedAt, dueAt, status } = answer.body;
    expect(status).to.equal('pending');
    expect(Date.parse(dueAt) - Date.parse(requestedAt)).to.equal(30 * DAY);
    const listed = await api.get(`${route}?status=pending`);
    expect(listed.body.items.map((r: { requestId: string }) => r.requestId)).to.include(requestId);
    expect(listed.text).not.to.contain(p.lastName);
    expect((await api.get(`${route}?status=lost`)).status).to.equal(400);
  });

  it('is not executed under a balance, a legal hold or a valid ticket: 422, and it stays pending', async () => {
    const [debtor, held, ticketHolder] = [person(), person(), person()];
    await publish(ledger, {
      events: [
        registered(debtor),
        envelope(debtor, 'BalanceChanged', { balance: 30, currency: 'EUR' }),
        registered(held),
        envelope(held, 'LegalHoldPlaced', { reason: 'litigation' }),
        registered(ticketHolder),
        ticketSold(ticketHolder, 'O-valid', new Date(Date.now() + 30 * DAY).toISOString()),
      ],
    });
    const blocks: Array<[Person, RegExp]> = [
      [debtor, /debtor or creditor/],
      [held, /legal hold/],
      [ticketHolder, /ticket still valid/],
    ];
    for (const [p, reason] of blocks) {
      const { requestId } = (await ask(p)).body;
      const head = await ledger.store.headPosition();
      const answer = await execute(requestId);
      expect(answer.status, answer.text).to.equal(422);
      expect(answer.body.detail).to.match(reason);
      expect(answer.body.action).to.be.a('string');
      expect(await ledger.store.headPosition()).to.equal(head);
      const pending = (await api.get(`${route}?status=pending`)).body.items;
      expect(pending.map((r: { requestId: string }) => r.requestId)).to.include(requestId);
    }
  });

  it('an option never confirmed is no ticket: it does not block; a prospect is erased', async () => {
    const p = person();
    const validUntil = new Date(Date.now() + 60 * DAY).toISOString();
    await publish(ledger, {
      events: [registered(p), envelope(p, 'OptionTaken', { orderId: 'O-opt', product: { kind: 'dated', validUntil } })],
    });
    const { requestId } = (await ask(p)).body;
    const answer = await execute(requestId);
    expect(answer.status, answer.text).to.equal(200);
    expect(answer.body).to.include({ status: 'done' });
    expect(answer.body.forgettingEvent.type).to.equal('ContactErased');
    const stored = (await ledger.store.readStream(`contact-${p.contactId}`)).at(-1)!;
    expect(stored.data).to.include({ reason: 'request', requestId });
    expect(stored.data['operatorId']).to.match(/^K-/);
  });

  it('a customer is anonymized; the request, its evidence and its outcome outlive the forgetting', async () => {
    const p = person();
    await publish(ledger, { events: [registered(p), ticketSold(p, 'O-old')] });
    const { requestId } = (await ask(p)).body;
    const answer = await execute(requestId);
    expect(answer.body.forgettingEvent.type).to.equal('ContactAnonymized');
    const stored = await ledger.store.readStream(`contact-${p.contactId}`);
    await ledger.shredder.shredFor(stored.at(-1)!);
    const timeline = await contactTimeline(ledger, p.contactId);
    const requested = timeline.find((event) => event.type === 'ErasureRequested')!;
    expect(requested).to.deep.include({ personal: 'withheld', withheld: ['evidence'] });
    expect(requested.data).to.deep.equal({ requestId, channel: 'post' });
    const read = await api.get(`${route}/${requestId}`);
    expect(read.body).to.include({ evidence: `Letter signed by ${p.lastName}`, evidenceState: 'open', status: 'done' });
    expect(timeline.find((event) => event.type === 'ContactRegistered')!.personal).to.equal('erased');
    const done = (await api.get(`${route}?status=done`)).body.items.find(
      (r: { requestId: string }) => r.requestId === requestId,
    );
    expect(done.closedBy).to.include({ eventId: stored.at(-1)!.id, type: 'ContactAnonymized' });
    const again = await execute(requestId);
    expect(again.status).to.equal(422);
    expect(again.body.detail).to.match(/already done/);
    expect((await ask(p)).status).to.equal(410);
  });

  it("a request's evidence is read through the request, by operators, until its period ends", async () => {
    const p = person();
    await publish(ledger, { events: [registered(p), ticketSold(p, `O-${p.contactId}`)] });
    const evidence = 'letter signed by Jeanne Martin, 12 rue X';
    const { requestId, requestedAt } = (await ask(p, evidence)).body;
    const asRole = async (role: Role) => {
      const { token } = await issueApiKey(ledger, { role, name: `evidence-${role}` });
      return api.get(`${route}/${requestId}`, { authorization: `Bearer ${token}` });
    };
    expect((await execute(requestId)).status).to.equal(200);
    await ledger.shredder.shredFor((await ledger.store.readStream(`contact-${p.contactId}`)).at(-1)!);

    const read = await asRole('operator');
    expect(read.status, read.text).to.equal(200);
    expect(read.headers.get('cache-control')).to.equal('no-store');
    expect(read.body).to.deep.include({ requestId, contactId: p.contactId, channel: 'post', status: 'done' });
    expect(read.body).to.include({ evidence, evidenceState: 'open' });
    const fiveYears = new Date(requestedAt);
    fiveYears.setUTCFullYear(fiveYears.getUTCFullYear() + 5);
    expect(read.body.evidenceKeptUntil).to.equal(fiveYears.toISOString());
    for (const role of ['publisher', 'batch', 'auditor'] as const) {
      const refused = await asRole(role);
      expect(refused.status, role).to.equal(403);
      expect(refused.text).not.to.contain('Jeanne');
    }
    expect((await api.get(`${route}/ER-unknown`)).status).to.equal(404);
    expect((await api.get(`${route}/${encodeURIComponent(p.email)}`)).status).to.equal(400);
    expect((await api.get(route)).text, 'the list never shows it').not.to.contain('Jeanne');

    const later = { ...ledger, now: () => new Date(Date.parse(fiveYears.toISOString()) + 1) };
    const past = await erasureRequestWithEvidence(later, requestId);
    expect(past).to.include({ evidence: null, evidenceState: 'period-ended' });
  });

  it('anonymizing a buyer keeps, unseen, a recent order key for security; the purge ends it', async () => {
    const p = person();
    await publish(ledger, { events: [registered(p), ticketSold(p, 'O-kept', '2025-09-01T20:00:00Z')] });
    const { requestId } = (await ask(p)).body;
    expect((await execute(requestId)).status).to.equal(200);
    const stored = await ledger.store.readStream(`contact-${p.contactId}`);
    await ledger.shredder.shredFor(stored.at(-1)!);
    const saleKey = stored.find((event) => event.type === 'TicketSold')!.sealed!.keyId;
    expect((await ledger.keys.destroyed([saleKey])).size, 'the beneficiary is kept for security').to.equal(0);
    const sale = (await contactTimeline(ledger, p.contactId)).find((event) => event.type === 'TicketSold')!;
    expect(sale.personal, 'but no reader sees it').to.equal('erased');

    await ledger.runner.catchUp();
    const asOf = new Date('2026-12-01T00:00:00Z'); // a year after the ticket ended
    const { forgotten } = await runInactiveBatch(ledger, { asOf, inactivityMonths: 12, apply: true });
    const purge = forgotten.find((event) => event.type === 'OrderDataPurged' && event.data['orderId'] === 'O-kept')!;
    expect(purge.data['retained']).to.deep.equal({});
    await ledger.shredder.shredAll(forgotten);
    expect(await ledger.keys.destroyed([saleKey])).to.deep.equal(new Map([[saleKey, purge.id]]));
  });

  it('a refusal is an event with its reason; a refused request can be neither executed nor refused again', async () => {
    const p = person();
    await publish(ledger, registered(p));
    const { requestId } = (await ask(p)).body;
    const refused = await api.post(`${route}/${requestId}/refuse`, { reason: 'identity-not-verified' });
    expect(refused.status, refused.text).to.equal(200);
    expect(refused.body).to.include({ status: 'refused' });
    expect(refused.body.closedBy).to.include({ type: 'ErasureRefused', reason: 'identity-not-verified' });
    const stored = (await ledger.store.readStream(`contact-${p.contactId}`)).at(-1)!;
    expect(stored).to.include({ type: 'ErasureRefused' });
    expect(stored.data).to.deep.equal({ requestId, reason: 'identity-not-verified' });
    expect((await execute(requestId)).status).to.equal(422);
    expect((await api.post(`${route}/${requestId}/refuse`, { reason: 'again' })).status).to.equal(422);
    expect((await api.post(`${route}/${requestId}/refuse`, { reason: 'Not A Code!' })).status).to.equal(400);
    // A slug that is a phone number is no code (issue 24): refused, stored nowhere.
    const phone = await api.post(`${route}/${requestId}/refuse`, { reason: '0612345678' });
    expect(phone.status).to.equal(400);
    expect(phone.text)
      .to.match(/\/reason/)
      .and.not.to.include('0612345678');
    expect((await execute('ER-unknown')).status).to.equal(404);
  });

  it('a request made more than 30 days ago and still pending is overdue', async () => {
    const p = person();
    const requestedAt = new Date(Date.now() - 40 * DAY).toISOString();
    await publish(ledger, {
      events: [
        registered(p, new Date(Date.now() - 50 * DAY).toISOString()),
        envelope(p, 'ErasureRequested', { requestId: 'ER-late', channel: 'email' }, requestedAt),
      ],
    });
    const overdue = (await api.get(`${route}?status=overdue`)).body.items;
    expect(overdue.map((r: { requestId: string }) => r.requestId)).to.deep.equal(['ER-late']);
    expect((await api.get(`${route}?status=pending`)).text).not.to.contain('ER-late');
  });

  it('a legal hold blocks the inactive batch as well, until it is released', async () => {
    const p = person();
    await publish(ledger, {
      events: [registered(p, '2018-01-01T00:00:00Z'), envelope(p, 'LegalHoldPlaced', { reason: 'audit' })],
    });
    await ledger.runner.catchUp();
    const simulated = await runInactiveBatch(ledger, {});
    expect(simulated.report.contacts.skippedLegalHold).to.include(p.contactId);
  });
});
