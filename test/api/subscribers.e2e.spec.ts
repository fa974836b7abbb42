import { expect } from 'chai';
import { pino } from 'pino';
import { openTestLedger, type TestLedger } from '../support/ledger.js';
import { startApi, type Api } from '../support/http.js';
import { SUBSCRIBERS_STREAM, DEFAULT_SUBSCRIBED_TYPES } from '../../src/domain/subscribers.js';
import { issueApiKey } from '../../src/app/issue-api-key.js';

/**
 * PUT /v1/subscribers/:name, GET /v1/subscribers and DELETE …/:name (issue 27): downstream systems
 * configured by events of the `subscribers` stream; a new webhook's secret is shown once.
 */
describe('/v1/subscribers: downstream systems, configured as events', function () {
  this.timeout(60_000);
  let ledger: TestLedger;
  let api: Api;
  const logged: string[] = [];
  before(async () => {
    ledger = await openTestLedger();
    api = await startApi(ledger, undefined, pino({ level: 'trace' }, { write: (line: string) => logged.push(line) }));
  });
  after(async () => {
    await api.close();
    await ledger.dispose();
  });

  const streamTypes = async () => (await ledger.store.readStream(SUBSCRIBERS_STREAM)).map((event) => event.type);
  const hook = { kind: 'webhook', url: 'https://crm.example.org/hooks/ledger?token=s3cr3t-query' };
  let secret = '';

  it('creates a webhook: 201 with its whsec_ secret; the default types; its url without its query', async () => {
    const answer = await api.put('/v1/subscribers/mailing-tool', hook);
    expect(answer.status, answer.text).to.equal(201);
    expect(answer.headers.get('cache-control')).to.equal('no-store');
    secret = answer.body.secret;
    expect(secret).to.match(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(answer.body.subscriber).to.deep.include({
      name: 'mailing-tool',
      kind: 'webhook',
      url: 'https://crm.example.org/hooks/ledger?…',
      confirmsErasure: false,
      eventTypes: [...DEFAULT_SUBSCRIBED_TYPES].sort(),
    });
    expect(await streamTypes()).to.deep.equal(['SubscriberConfigured']);
  });

  it('never shows the secret again, nor keeps it in the log or the server log', async () => {
    const again = await api.put('/v1/subscribers/mailing-tool', hook);
    expect(again.status).to.equal(200);
    expect(again.body).to.not.have.property('secret');
    expect(again.body.changed).to.equal(false);
    expect(await streamTypes()).to.deep.equal(['SubscriberConfigured']);
    const stored = JSON.stringify(await ledger.store.readStream(SUBSCRIBERS_STREAM));
    expect(stored).to.not.include(secret.slice(6, 30));
    expect(logged.join('\n')).to.not.include(secret.slice(6, 30)).and.not.include('s3cr3t-query');
    const changed = await api.put('/v1/subscribers/mailing-tool', { ...hook, confirmsErasure: true });
    expect(changed.status).to.equal(200);
    expect(changed.body).to.deep.include({ changed: true }).and.not.have.property('secret');
  });

  it('configures a NATS subscriber with its own types; GET lists both with their delivery, for an admin', async () => {
    const nats = { kind: 'nats', subject: 'ledger.decisions', eventTypes: ['ContactErased', 'ContactAnonymized'] };
    const answer = await api.put('/v1/subscribers/warehouse', nats);
    expect(answer.status, answer.text).to.equal(201);
    expect(answer.body).to.not.have.property('secret');
    const list = await api.get('/v1/subscribers');
    expect(list.status, list.text).to.equal(200);
    expect(list.body.items.map((item: { name: string }) => item.name)).to.deep.equal(['mailing-tool', 'warehouse']);
    expect(list.body.items[1]).to.deep.include({ subject: 'ledger.decisions', confirmsErasure: false });
    expect(list.body.items[1].eventTypes).to.deep.equal(['ContactAnonymized', 'ContactErased']);
    expect(list.body.items[0].delivery).to.deep.equal({
      position: 0,
      lag: await ledger.store.headPosition(),
      deadLetters: 0,
      lastDelivery: null,
      lastFailure: null,
      failing: null,
    });
    expect(list.text).to.not.include('whsec_');
    const { token } = await issueApiKey(ledger, { role: 'operator', name: 'desk' });
    expect((await api.get('/v1/subscribers', { authorization: `Bearer ${token}` })).status).to.equal(403);
  });

  it('DELETE appends SubscriberRemoved; an unknown name is a 404 that appends nothing', async () => {
    const removed = await api.delete('/v1/subscribers/warehouse');
    expect(removed.status, removed.text).to.equal(200);
    expect((await streamTypes()).at(-1)).to.equal('SubscriberRemoved');
    const head = await ledger.store.headPosition();
    const unknown = await api.delete('/v1/subscribers/warehouse');
    expect(unknown.status).to.equal(404);
    expect(unknown.body.type).to.equal('urn:contact-ledger:problem:unknown-subscriber');
    expect(await ledger.store.headPosition()).to.equal(head);
  });

  it('a webhook removed and configured again gets a new secret', async () => {
    await api.delete('/v1/subscribers/mailing-tool');
    const answer = await api.put('/v1/subscribers/mailing-tool', hook);
    expect(answer.status).to.equal(201);
    expect(answer.body.secret)
      .to.match(/^whsec_/)
      .and.not.equal(secret);
  });

  it('a NATS subscriber made a webhook gets its secret then, in a 200', async () => {
    expect((await api.put('/v1/subscribers/shop', { kind: 'nats', subject: 'ledger' })).status).to.equal(201);
    const answer = await api.put('/v1/subscribers/shop', { kind: 'webhook', url: 'https://shop.example.org/h' });
    expect(answer.status).to.equal(200);
    expect(answer.body.secret).to.match(/^whsec_/);
  });

  it("rotates a webhook's secret: 200 with the new one, shown once; the one before signs too for 24 h", async () => {
    const before = Date.now();
    const answer = await api.post('/v1/subscribers/mailing-tool/secret/rotate', {});
    expect(answer.status, answer.text).to.equal(200);
    expect(answer.headers.get('cache-control')).to.equal('no-store');
    expect(answer.body.name).to.equal('mailing-tool');
    expect(answer.body.secret).to.match(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const overlap = Date.parse(answer.body.previousValidUntil) - before;
    expect(overlap).to.be.within(24 * 3_600_000, 24 * 3_600_000 + 60_000);
    expect((await streamTypes()).at(-1)).to.equal('SubscriberSecretRotated');
    expect(JSON.stringify(await ledger.store.readStream(SUBSCRIBERS_STREAM))).to.not.include(
      answer.body.secret.slice(6, 30),
    );
    expect(logged.join('\n')).to.not.include(answer.body.secret.slice(6, 30));
    const again = await api.post('/v1/subscribers/mailing-tool/secret/rotate', { overlapHours: 0 });
    expect(again.status, again.text).to.equal(200);
    expect(again.body.secret).to.not.equal(answer.body.secret);
    expect(Date.parse(again.body.previousValidUntil)).to.be.below(Date.now() + 1000);
  });

  it('refuses a rotation of an unknown name (404), of a NATS subscriber (422), a bad overlap (400)', async () => {
    await api.put('/v1/subscribers/queue', { kind: 'nats', subject: 'ledger.queue' });
    const head = await ledger.store.headPosition();
    const unknown = await api.post('/v1/subscribers/nobody/secret/rotate', {});
    expect(unknown.status).to.equal(404);
    expect(unknown.body.type).to.equal('urn:contact-ledger:problem:unknown-subscriber');
    const nats = await api.post('/v1/subscribers/queue/secret/rotate', {});
    expect(nats.status, nats.text).to.equal(422);
    for (const body of [{ overlapHours: -1 }, { overlapHours: 169 }, { overlapHours: 1.5 }, { secret: 'mine' }]) {
      const refused = await api.post('/v1/subscribers/mailing-tool/secret/rotate', body);
      expect(refused.status, JSON.stringify(body)).to.equal(400);
    }
    const { token } = await issueApiKey(ledger, { role: 'operator', name: 'rotator' });
    const operator = { authorization: `Bearer ${token}` };
    expect((await api.post('/v1/subscribers/mailing-tool/secret/rotate', {}, operator)).status).to.equal(403);
    expect(await ledger.store.headPosition()).to.be.at.most(head + 1); // the operator's key only
    expect((await streamTypes()).at(-1)).to.equal('SubscriberConfigured');
  });

  it("lists a subscriber's dead letters and replays them; an unknown name is a 404", async () => {
    const listed = await api.get('/v1/subscribers/mailing-tool/dead-letters');
    expect(listed.status, listed.text).to.equal(200);
    expect(listed.body).to.deep.equal({ items: [] });
    const replayed = await api.post('/v1/subscribers/mailing-tool/dead-letters/replay', {});
    expect(replayed.status, replayed.text).to.equal(202);
    expect(replayed.body).to.deep.equal({ name: 'mailing-tool', replaying: 0 });
    expect((await api.get('/v1/subscribers/nobody/dead-letters')).status).to.equal(404);
    expect((await api.post('/v1/subscribers/nobody/dead-letters/replay', {})).status).to.equal(404);
  });

  const refusals: Array<[string, string, unknown, string]> = [
    ['a plain http url to another machine', 'a', { kind: 'webhook', url: 'http://crm.example.org/h' }, '/url'],
    ['a url with a user and password', 'a', { kind: 'webhook', url: 'https://u:p@crm.example.org/h' }, '/url'],
    ['a url that is no url', 'a', { kind: 'webhook', url: 'crm.example.org/h' }, '/url'],
    ['an ftp url', 'a', { kind: 'webhook', url: 'ftp://crm.example.org/h' }, '/url'],
    ['a webhook without url', 'a', { kind: 'webhook' }, '/url'],
    ['a webhook with a subject', 'a', { kind: 'webhook', url: 'https://x.example/h', subject: 's' }, '/subject'],
    ['a NATS subscriber without subject', 'a', { kind: 'nats' }, '/subject'],
    ['a NATS subject with a wildcard', 'a', { kind: 'nats', subject: 'ledger.>' }, '/subject'],
    ['an unknown kind', 'a', { kind: 'kafka', url: 'https://x.example/h' }, '/kind'],
    ['an unknown event type', 'a', { kind: 'nats', subject: 's', eventTypes: ['ContactDeleted'] }, '/eventTypes/0'],
    ['no event type', 'a', { kind: 'nats', subject: 's', eventTypes: [] }, '/eventTypes'],
    ['confirmsErasure not a boolean', 'a', { kind: 'nats', subject: 's', confirmsErasure: 'yes' }, '/confirmsErasure'],
    ['an unknown field', 'a', { kind: 'nats', subject: 's', secret: 'mine' }, '/secret'],
    ['a name with capitals', 'Mailing', { kind: 'nats', subject: 's' }, '/name'],
  ];
  for (const [name, subscriber, body, pointer] of refusals) {
    it(`refuses ${name}: 400 naming ${pointer}, nothing appended`, async () => {
      const head = await ledger.store.headPosition();
      const answer = await api.put(`/v1/subscribers/${subscriber}`, body);
      expect(answer.status, answer.text).to.equal(400);
      expect(answer.type).to.match(/^application\/problem\+json/);
      expect(answer.body.errors.map((error: { pointer: string }) => error.pointer)).to.include(pointer);
      expect(await ledger.store.headPosition()).to.equal(head);
    });
  }
});
