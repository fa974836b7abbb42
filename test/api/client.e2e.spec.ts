import { expect } from 'chai';
import { createLedgerClient, LedgerProblem, problemOf, unwrap, type LedgerClient } from '../../src/client/index.js';
import { startApi, type Api } from '../support/http.js';
import { openTestLedger, type TestLedger } from '../support/ledger.js';
import { person, personalValues } from '../support/events.js';
import { detailsChanged, registration, unreachableFor } from '../support/client.js';

describe('contact-ledger/client against a running ledger', () => {
  let ledger: TestLedger;
  let api: Api;
  let client: LedgerClient;
  beforeEach(async () => {
    ledger = await openTestLedger();
    api = await startApi(ledger);
    client = createLedgerClient({ baseUrl: api.url, apiKey: api.adminKey });
  });
  afterEach(async () => {
    await api.close();
    await ledger.dispose();
  });

  it('publishes a batch (201), the same batch again appends nothing (200, every id a duplicate)', async () => {
    const events = [registration(person()), registration(person())];
    const first = await client.POST('/v1/events', { body: { events } });
    expect(first.response.status).to.equal(201);
    expect(first.data?.appended.map((appended) => appended.revision)).to.deep.equal([0, 0]);
    const again = await client.POST('/v1/events', { body: { events } });
    expect(again.response.status).to.equal(200);
    expect(again.data).to.deep.include({ appended: [], duplicates: events.map((event) => event.id) });
  });

  it('reads a contact view, typed by the document', async () => {
    const p = person();
    await unwrap(client.POST('/v1/events', { body: { events: [registration(p)] } }));
    const view = await unwrap(client.GET('/v1/contacts/{contactId}', { params: { path: { contactId: p.contactId } } }));
    const status: 'active' | 'anonymized' | 'erased' = view.status;
    expect(status).to.equal('active');
    expect(view.details.email).to.equal(p.email);
    // @ts-expect-error: a contact view has no such field, and the client's types know it
    expect(view.revision).to.equal(undefined);
  });

  it('a 409 on a moved stream: a conflict with the revision now, to publish again with it', async () => {
    const p = person();
    await unwrap(client.POST('/v1/events', { body: { events: [registration(p)] } }));
    const stale = detailsChanged(p, 3);
    const refused = await client.POST('/v1/events', { body: { events: [stale] } });
    const conflict = problemOf(refused);
    expect(conflict).to.be.instanceOf(LedgerProblem);
    expect(conflict).to.include({ kind: 'conflict', status: 409, stream: `contact-${p.contactId}`, actualRevision: 0 });
    const again = await unwrap(
      client.POST('/v1/events', { body: { events: [{ ...stale, expectedRevision: conflict!.actualRevision! }] } }),
    );
    expect(again.appended.map((appended) => appended.revision)).to.deep.equal([1]);
  });

  it('a 409 for an id used by another event is not a conflict to retry, and says nothing personal', async () => {
    const [a, b] = [person(), person()];
    const first = registration(a);
    await unwrap(client.POST('/v1/events', { body: { events: [first] } }));
    const error = await unwrap(
      client.POST('/v1/events', { body: { events: [{ ...registration(b), id: first.id }] } }),
    ).catch((thrown: unknown) => thrown);
    expect(error).to.be.instanceOf(LedgerProblem).and.to.include({ kind: 'id-reused', status: 409 });
    const message = (error as LedgerProblem).message;
    expect(message).to.equal('409 Event id already used (urn:contact-ledger:problem:event-id-already-used)');
    for (const value of [...personalValues(a), ...personalValues(b), a.contactId, b.contactId])
      expect(message).not.to.contain(value);
  });

  it('a 503 with Retry-After while the database is out of reach; the same batch then appends once', async () => {
    const events = [registration(person()), registration(person())];
    unreachableFor(ledger, 1);
    const error = await unwrap(client.POST('/v1/events', { body: { events } })).catch((thrown: unknown) => thrown);
    expect(error).to.be.instanceOf(LedgerProblem).and.to.include({ kind: 'unavailable', status: 503 });
    expect((error as LedgerProblem).retryAfterSeconds).to.equal(5);
    const retried = await unwrap(client.POST('/v1/events', { body: { events } }));
    expect(retried).to.deep.include({ duplicates: [] });
    expect(retried.appended.map((appended) => appended.id)).to.deep.equal(events.map((event) => event.id));
  });

  it('sends its API key as a bearer token: a wrong one is refused (401)', async () => {
    const stranger = createLedgerClient({ baseUrl: api.url, apiKey: 'cl_K-000000000000_wrong' });
    const answer = await stranger.GET('/v1/contacts/{contactId}', { params: { path: { contactId: 'C-1' } } });
    expect(problemOf(answer)).to.include({ kind: 'refused', status: 401 });
    const seen: string[] = [];
    const spied = createLedgerClient({
      baseUrl: api.url,
      apiKey: api.adminKey,
      fetch: (request) => (seen.push(request.headers.get('authorization') ?? ''), fetch(request)),
    });
    await unwrap(spied.GET('/health'));
    expect(seen).to.deep.equal([`Bearer ${api.adminKey}`]);
  });
});
