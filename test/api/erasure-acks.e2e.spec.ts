import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { openTestLedger, type TestLedger } from '../support/ledger.js';
import { startApi, type Api } from '../support/http.js';
import { runCli } from '../support/cli.js';
import { person, registered, type Person } from '../support/events.js';
import { publish } from '../../src/app/publish.js';
import { issueApiKey } from '../../src/app/issue-api-key.js';
import { listApiKeys } from '../../src/app/list-api-keys.js';
import { authenticate } from '../../src/app/authenticate.js';
import { Forbidden } from '../../src/domain/errors.js';
import { contactStream } from '../../src/domain/identifiers.js';

const DAY = 86_400_000;
/** The key id of a token (cl_K-…_secret), as the log records who acted. */
const keyIdOf = (token: string) => token.split('_')[1]!;

/**
 * Acknowledged erasure (issue 27, item 6): a `subscriber` key bound to one downstream system posts
 * POST /v1/subscribers/:name/acks {eventId} once it erased its copy after a forgetting; an erasure
 * request is done only when every subscriber that confirms erasure has confirmed.
 */
describe('acknowledged erasure: subscriber keys and /v1/subscribers/:name/acks', function () {
  this.timeout(120_000);
  let ledger: TestLedger;
  let api: Api;
  const keys: Record<string, string> = {};
  const as = (name: string) => ({ authorization: `Bearer ${keys[name]}` });
  const ack = (name: string, body: unknown, key = name) => api.post(`/v1/subscribers/${name}/acks`, body, as(key));
  const requests = '/v1/erasure-requests';

  before(async () => {
    ledger = await openTestLedger();
    api = await startApi(ledger);
    keys['admin'] = api.adminKey;
    for (const [name, confirmsErasure] of [
      ['crm', true],
      ['warehouse', true],
      ['bi', false],
    ] as const) {
      const configured = await api.put(`/v1/subscribers/${name}`, { kind: 'nats', subject: name, confirmsErasure });
      expect(configured.status, configured.text).to.equal(201);
      keys[name] = (await issueApiKey(ledger, { role: 'subscriber', subscriber: name })).token;
    }
  });
  after(async () => {
    await api.close();
    await ledger.dispose();
  });

  /** A registered prospect with a request to be forgotten (made `daysAgo`), executed: its forgetting's id. */
  async function forgotten(daysAgo = 0): Promise<{ p: Person; requestId: string; eventId: string }> {
    const p = person();
    const requestId = `ER-${randomUUID()}`;
    const at = new Date(Date.now() - daysAgo * DAY).toISOString();
    await publish(ledger, {
      events: [
        registered(p, new Date(Date.now() - (daysAgo + 1) * DAY).toISOString()),
        {
          type: 'ErasureRequested',
          contactId: p.contactId,
          organizationId: 'ORG-A',
          occurredAt: at,
          data: { requestId, channel: 'email' },
        },
      ],
    });
    const executed = await api.post(`${requests}/${requestId}/execute`, {});
    expect(executed.status, executed.text).to.equal(200);
    return { p, requestId, eventId: executed.body.forgettingEvent.id };
  }

  it('ledger keys create binds a subscriber key to its subscriber; refuses a half binding or an unknown name', () => {
    const created = runCli(['keys', 'create', '--role', 'subscriber', '--subscriber', 'crm', '--json'], ledger.env);
    expect(created.status, created.stderr).to.equal(0);
    expect(JSON.parse(created.stdout)).to.include({ role: 'subscriber', subscriber: 'crm' });
    const refusals: Array<[string[], RegExp]> = [
      [['--role', 'subscriber'], /a subscriber key is bound to a subscriber: name it \(--subscriber NAME\)/],
      [['--role', 'operator', '--subscriber', 'crm'], /only a key of the role subscriber names a subscriber/],
      [['--role', 'subscriber', '--subscriber', 'nobody'], /no subscriber nobody/],
    ];
    for (const [args, message] of refusals) {
      const refused = runCli(['keys', 'create', ...args], ledger.env);
      expect(refused.status, args.join(' ')).to.equal(2);
      expect(refused.stderr).to.match(message);
    }
  });

  it('the subscriber is recorded with the key (ApiKeyIssued), and listed with it', async () => {
    const issued = (await ledger.store.readStream('api-keys')).filter(
      (event) => event.type === 'ApiKeyIssued' && event.data['role'] === 'subscriber',
    );
    expect(issued.map((event) => event.data['subscriber'])).to.include.members(['crm', 'warehouse', 'bi']);
    const listed = (await listApiKeys(ledger)).filter((key) => key.role === 'subscriber');
    expect(listed.map((key) => key.subscriber)).to.include.members(['crm', 'warehouse', 'bi']);
    expect(runCli(['keys', 'list'], ledger.env).stdout).to.match(/\tsubscriber:crm\t/);
  });

  it('off loopback, where /metrics and /openapi.json take a key of any role, a subscriber key is refused', async () => {
    await authenticate(ledger, keys['admin']!, 'any');
    const refused = await authenticate(ledger, keys['crm']!, 'any').catch((error: unknown) => error);
    expect(refused).to.be.instanceOf(Forbidden).and.include({ status: 403 });
  });

  it("a subscriber key is refused (403) on every route but its own acks, another subscriber's included", async () => {
    const { eventId } = await forgotten();
    const head = await ledger.store.headPosition();
    const refused = [
      await api.get('/v1/subscribers', as('crm')),
      await api.get(requests, as('crm')),
      await api.get('/v1/contacts?email=someone@example.org', as('crm')),
      await api.post('/v1/events', registered(person()), as('crm')),
      await api.put('/v1/subscribers/crm', { kind: 'nats', subject: 'crm' }, as('crm')),
      await api.get('/v1/subscribers/crm/dead-letters', as('crm')),
      await ack('warehouse', { eventId }, 'crm'),
      // Refused before its body is read: a malformed body to another's route says nothing more.
      await ack('warehouse', { nothing: true }, 'crm'),
    ];
    expect(refused.map((answer) => answer.status)).to.deep.equal(refused.map(() => 403));
    expect(refused[6]!.body.detail).to.equal('a subscriber key acts for its own subscriber only');
    expect(await ledger.store.headPosition()).to.equal(head);
  });

  it('an ack records ErasureConfirmed (201); the request waits for every confirming subscriber', async () => {
    const { p, requestId, eventId } = await forgotten();
    const shown = async () => (await api.get(`${requests}/${requestId}`)).body;
    const before = await shown();
    expect(before.status).to.equal('awaiting-confirmation');
    expect(before.downstream).to.deep.equal([
      { subscriber: 'crm', status: 'pending', confirmedBy: null },
      { subscriber: 'warehouse', status: 'pending', confirmedBy: null },
    ]);

    const first = await ack('crm', { eventId });
    expect(first.status, first.text).to.equal(201);
    expect(first.body).to.deep.include({ subscriber: 'crm', eventId, requestId, changed: true });
    const stream = await ledger.store.readStream(contactStream(p.contactId));
    const recorded = stream.at(-1)!;
    expect(recorded).to.deep.include({ type: 'ErasureConfirmed', id: first.body.confirmedBy.eventId, sealed: null });
    // Which key acknowledged: the subscriber's own here (an admin's acting for it is told apart).
    expect(recorded.data).to.deep.equal({ subscriber: 'crm', eventId, requestId, keyId: keyIdOf(keys['crm']!) });

    const halfway = await shown();
    expect(halfway.status).to.equal('awaiting-confirmation');
    expect(halfway.downstream[0]).to.deep.equal({
      subscriber: 'crm',
      status: 'confirmed',
      confirmedBy: { eventId: recorded.id, at: recorded.occurredAt },
    });
    expect(halfway.downstream[1]).to.deep.include({ subscriber: 'warehouse', status: 'pending' });

    // Sent again (a retry): the confirmation recorded then, nothing appended.
    const head = await ledger.store.headPosition();
    const again = await ack('crm', { eventId });
    expect(again.status).to.equal(200);
    expect(again.body).to.deep.equal({ ...first.body, changed: false });
    expect(await ledger.store.headPosition()).to.equal(head);

    const last = await ack('warehouse', { eventId });
    expect(last.status).to.equal(201);
    expect((await shown()).status).to.equal('done');
    const done = (await api.get(`${requests}?status=done`)).body.items;
    expect(done.map((request: { requestId: string }) => request.requestId)).to.include(requestId);
  });

  it('a subscriber removed after the forgetting is still awaited, and an admin may acknowledge for it', async () => {
    await api.put('/v1/subscribers/printer', { kind: 'nats', subject: 'printer', confirmsErasure: true });
    const { requestId, eventId } = await forgotten();
    expect((await api.delete('/v1/subscribers/printer')).status).to.equal(200);
    const waiting = (await api.get(`${requests}/${requestId}`)).body;
    expect(waiting.downstream.map((entry: { subscriber: string }) => entry.subscriber)).to.include('printer');
    for (const name of ['crm', 'warehouse']) expect((await ack(name, { eventId })).status).to.equal(201);
    expect((await api.get(`${requests}/${requestId}`)).body.status).to.equal('awaiting-confirmation');
    const byAdmin = await ack('printer', { eventId }, 'admin');
    expect(byAdmin.status).to.equal(201);
    const recorded = await ledger.store.readEvent(byAdmin.body.confirmedBy.eventId);
    expect(recorded!.data).to.include({ subscriber: 'printer', keyId: keyIdOf(keys['admin']!) });
    expect((await api.get(`${requests}/${requestId}`)).body.status).to.equal('done');
  });

  it("a name removed and configured again is another system: neither's key acknowledges for the other", async () => {
    await api.put('/v1/subscribers/shop', { kind: 'nats', subject: 'shop', confirmsErasure: true });
    keys['shop-1'] = (await issueApiKey(ledger, { role: 'subscriber', subscriber: 'shop' })).token;
    const first = await forgotten();
    expect((await api.delete('/v1/subscribers/shop')).status).to.equal(200);
    await api.put('/v1/subscribers/shop', { kind: 'nats', subject: 'shop-2', confirmsErasure: true });
    keys['shop-2'] = (await issueApiKey(ledger, { role: 'subscriber', subscriber: 'shop' })).token;
    const second = await forgotten();
    const head = await ledger.store.headPosition();
    for (const [key, eventId] of [
      ['shop-1', second.eventId],
      ['shop-2', first.eventId],
    ] as const) {
      const refused = await ack('shop', { eventId }, key);
      expect(refused.status, refused.text).to.equal(403);
      expect(refused.body.detail).to.match(/issued to an earlier or a later subscriber shop/);
    }
    expect(await ledger.store.headPosition()).to.equal(head);
    // Each system's own key still acknowledges what was delivered to it, the removed one's included.
    expect((await ack('shop', { eventId: first.eventId }, 'shop-1')).status).to.equal(201);
    expect((await ack('shop', { eventId: second.eventId }, 'shop-2')).status).to.equal(201);
    expect((await api.delete('/v1/subscribers/shop')).status).to.equal(200);
  });

  it('each bad acknowledgement is refused with a clear problem and appends nothing', async () => {
    const { p, eventId } = await forgotten();
    const requested = (await ledger.store.readStream(contactStream(p.contactId))).find(
      (event) => event.type === 'ErasureRequested',
    )!;
    await api.put('/v1/subscribers/late', { kind: 'nats', subject: 'late', confirmsErasure: true });
    const head = await ledger.store.headPosition();
    const cases: Array<[string, string, unknown, string, number, RegExp]> = [
      ['an unknown subscriber', 'nobody', { eventId }, 'admin', 404, /no subscriber nobody/],
      ['an unknown event', 'crm', { eventId: randomUUID() }, 'crm', 404, /no event/],
      ['an event that forgets nothing', 'crm', { eventId: requested.id }, 'crm', 422, /not a forgetting/],
      ['a subscriber that does not confirm erasure', 'bi', { eventId }, 'bi', 422, /does not wait for/],
      ['a subscriber configured after the forgetting', 'late', { eventId }, 'admin', 422, /does not wait for/],
      ["another subscriber's key", 'warehouse', { eventId }, 'crm', 403, /its own subscriber only/],
      ['no eventId', 'crm', {}, 'crm', 400, /eventId/],
      ['an eventId that is no event id', 'crm', { eventId: 'E-1' }, 'crm', 400, /eventId/],
      ['an unknown field', 'crm', { eventId, note: 'done' }, 'crm', 400, /note/],
    ];
    for (const [what, name, body, key, status, detail] of cases) {
      const answer = await ack(name, body, key);
      expect(answer.status, `${what}: ${answer.text}`).to.equal(status);
      expect(answer.type).to.match(/^application\/problem\+json/);
      expect(answer.text, what).to.match(detail);
    }
    const notJson = await api.postRaw('/v1/subscribers/crm/acks', `eventId=${eventId}`, 'text/plain', as('crm'));
    expect(notJson.status).to.equal(415);
    expect(await ledger.store.headPosition()).to.equal(head);
    expect((await api.delete('/v1/subscribers/late')).status).to.equal(200);
  });

  it('a request forgotten in the ledger but still awaiting a subscriber past its due date is overdue', async () => {
    const { requestId, eventId } = await forgotten(40);
    const overdue = async () =>
      (await api.get(`${requests}?status=overdue`)).body.items.map(
        (request: { requestId: string }) => request.requestId,
      );
    expect(await overdue()).to.include(requestId);
    const shown = (await api.get(`${requests}/${requestId}`)).body;
    expect(shown).to.deep.include({ status: 'overdue' });
    expect(shown.closedBy).to.deep.include({ eventId });
    for (const name of ['crm', 'warehouse']) expect((await ack(name, { eventId })).status).to.equal(201);
    expect(await overdue()).not.to.include(requestId);
    expect((await api.get(`${requests}/${requestId}`)).body.status).to.equal('done');
  });

  it('an event id in capitals or as a urn (as a uuid column may give it back) names the same forgetting', async () => {
    const { requestId, eventId } = await forgotten();
    const capitals = await ack('crm', { eventId: eventId.toUpperCase() });
    expect(capitals.status, capitals.text).to.equal(201);
    expect(capitals.body).to.include({ eventId });
    expect((await ack('crm', { eventId })).body).to.include({ changed: false });
    const urn = await ack('warehouse', { eventId: `urn:uuid:${eventId}` });
    expect(urn.status, urn.text).to.equal(201);
    expect((await api.get(`${requests}/${requestId}`)).body.status).to.equal('done');
  });

  it('the read models fold the confirmations as folding the log again does (projections verify)', async () => {
    await ledger.runner.catchUp();
    const verified = runCli(['projections', 'verify'], ledger.env);
    expect(verified.status, verified.stderr).to.equal(0);
    expect(verified.stdout).to.match(/^OK: \d+ read-model rows equal the log folded again/);
  });
});
