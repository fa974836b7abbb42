import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { openTestLedger, type TestLedger } from '../support/ledger.js';
import { startApi, type Api } from '../support/http.js';
import { consentGiven, person, registered, ticketSold, configureTestPurposes } from '../support/events.js';

describe('POST /v1/events', () => {
  let ledger: TestLedger;
  let api: Api;
  /** The log's head once the API is up (its admin key was issued into the log): positions count from it. */
  let origin: number;
  beforeEach(async () => {
    ledger = await openTestLedger();
    await configureTestPurposes(ledger);
    api = await startApi(ledger, 256 * 1024);
    origin = await ledger.store.headPosition();
  });
  afterEach(async () => {
    await api.close();
    await ledger.dispose();
  });
  const head = () => ledger.store.headPosition();

  it('appends one envelope and returns its stream, revision and position', async () => {
    const p = person();
    const response = await api.post('/v1/events', registered(p));
    expect(response.status).to.equal(201);
    expect(response.body.appended).to.have.length(1);
    expect(response.body.appended[0]).to.include({
      stream: `contact-${p.contactId}`,
      revision: 0,
      position: origin + 1,
    });
    expect(response.body).to.include.keys('duplicates', 'warnings');
  });

  it('appends a batch across contacts atomically, in order', async () => {
    const [a, b] = [person(), person()];
    const response = await api.post('/v1/events', {
      events: [registered(a), registered(b), ticketSold(a, 'O-1'), consentGiven(b)],
    });
    expect(response.status).to.equal(201);
    expect(response.body.appended.map((x: { position: number }) => x.position)).to.deep.equal(
      [1, 2, 3, 4].map((n) => origin + n),
    );
  });

  it('re-publishing an event id appends nothing and reports a duplicate', async () => {
    const event = { ...registered(person()), id: randomUUID() };
    expect((await api.post('/v1/events', event)).status).to.equal(201);
    const retry = await api.post('/v1/events', event);
    expect(retry.status).to.equal(200);
    expect(retry.body).to.deep.include({ appended: [], duplicates: [event.id] });
    expect(await head()).to.equal(origin + 1);
  });

  it("warns when a contact's first event is not its registration", async () => {
    const response = await api.post('/v1/events', ticketSold(person(), 'O-1'));
    expect(response.body.warnings).to.deep.equal([{ index: 0, message: response.body.warnings[0].message }]);
    expect(response.body.warnings[0].message).to.match(/not ContactRegistered/);
  });

  it('an order activity of a restricted contact is appended with a warning, decided from the log', async () => {
    const [p, other] = [person(), person()];
    const restriction = (type: string) => ({
      type,
      contactId: p.contactId,
      organizationId: 'ORG-A',
      occurredAt: '2024-01-20T10:00:00Z',
      data: { reason: 'objection' },
    });
    const option = { ...ticketSold(p, 'O-2'), type: 'OptionTaken' };
    await api.post('/v1/events', { events: [registered(p), registered(other)] });
    expect((await api.post('/v1/events', ticketSold(p, 'O-0'))).body.warnings).to.deep.equal([]);
    expect((await api.post('/v1/events', restriction('ProcessingRestricted'))).status).to.equal(201);
    // The read models have not seen the restriction (no catch-up): the log decides.
    expect((await ledger.readModels.contact(p.contactId))?.restricted ?? false).to.equal(false);
    const sold = await api.post('/v1/events', { events: [ticketSold(other, 'O-1'), ticketSold(p, 'O-1'), option] });
    expect(sold.status, sold.text).to.equal(201);
    expect(sold.body.appended).to.have.length(3);
    expect(sold.body.warnings.map((w: { index: number }) => w.index)).to.deep.equal([1, 2]);
    expect(sold.body.warnings[0]).to.include({ index: 1, pointer: '/contactId', code: 'processing-restricted' });
    expect(sold.body.warnings[0].message).to.match(/restriction of processing/);
    expect(sold.body.warnings[0].advice).to.match(/RestrictionLifted/);
    expect(sold.text).not.to.include(p.email);
    // Re-published, it is a duplicate: nothing appended, nothing to warn about.
    const again = await api.post('/v1/events', { events: [{ ...ticketSold(p, 'O-1'), id: sold.body.appended[1].id }] });
    expect(again.body.duplicates).to.have.length(1);
    expect(again.body.warnings).to.deep.equal([]);
    // Lifted in the same batch before the next sale: no warning; restricted again after it: a warning.
    const batch = await api.post('/v1/events', {
      events: [
        restriction('RestrictionLifted'),
        ticketSold(p, 'O-4'),
        restriction('ProcessingRestricted'),
        ticketSold(p, 'O-5'),
      ],
    });
    expect(batch.body.warnings.map((w: { index: number }) => w.index)).to.deep.equal([3]);
  });

  it('expectedRevision mismatch: 409 problem with the revisions, nothing appended', async () => {
    const p = person();
    await api.post('/v1/events', registered(p));
    const response = await api.post('/v1/events', {
      events: [registered(person()), { ...ticketSold(p, 'O-1'), expectedRevision: 5 }],
    });
    expect(response.status).to.equal(409);
    expect(response.type).to.match(/application\/problem\+json/);
    expect(response.body).to.include({ expectedRevision: 5, actualRevision: 0 });
    expect(await head()).to.equal(origin + 1);
  });

  describe(
    'every bad-input class gets a problem+json and appends ' + 'nothing, not even the valid events of its batch',
    () => {
      const valid = () => registered(person());
      const cases: Array<[string, () => Promise<{ status: number; type: string; body: any }>, number, RegExp?]> = [
        ['malformed JSON', () => api.postRaw('/v1/events', '{"events": [ {"type": '), 400, /not valid JSON/],
        [
          'unknown type',
          () => api.post('/v1/events', { events: [valid(), { ...valid(), type: 'TicketTeleported' }] }),
          400,
        ],
        [
          'missing field',
          () => api.post('/v1/events', { events: [valid(), { ...valid(), organizationId: undefined }] }),
          400,
        ],
        ['mistyped field', () => api.post('/v1/events', { events: [valid(), { ...valid(), data: { role: 7 } }] }), 400],
        [
          'impossible date',
          () => api.post('/v1/events', { events: [valid(), { ...valid(), occurredAt: '2026-02-30T10:00:00Z' }] }),
          400,
        ],
        [
          'oversized body',
          () =>
            api.post('/v1/events', {
              events: [valid(), { ...valid(), data: { role: 'individual', lastName: 'x'.repeat(300 * 1024) } }],
            }),
          413,
        ],
        [
          'batch of 1001',
          () =>
            api.post('/v1/events', {
              events: Array.from({ length: 1001 }, () => ({ ...valid(), data: { role: 'individual' } })),
            }),
          413,
        ],
        [
          'ledger-only type from a publisher',
          () =>
            api.post('/v1/events', {
              events: [
                valid(),
                { ...valid(), type: 'ContactAnonymized', data: { reason: 'request', requestId: 'R-1', retained: {} } },
              ],
            }),
          422,
        ],
        [
          'non-JSON content type',
          () => api.postRaw('/v1/events', 'type=ContactRegistered', 'application/x-www-form-urlencoded'),
          415,
        ],
        ['empty batch', () => api.post('/v1/events', { events: [] }), 400],
        // Operator rules: a refusal says what to do.
        ...(
          [
            [
              'a photo without consent',
              'PhotoRecorded',
              { photo: 'aGVsbG8=', consentObtained: false },
              /ask the person/,
            ],
            [
              'a payment alias without the buyer consent',
              'PaymentAliasSaved',
              { alias: 'VISA-4242', buyerConsent: false },
              /ask the buyer/,
            ],
            [
              'a policy acceptance without its version',
              'PolicyAccepted',
              { kind: 'privacy', url: 'https://example.org/privacy' },
              /url and the version/,
            ],
            [
              'a contact created on behalf of another without the legal mention',
              'ContactRegistered',
              { role: 'individual', createdOnBehalfOf: 'C-BOOKER' },
              /show the legal mention/,
            ],
          ] as const
        ).map(([name, type, data, action]): (typeof cases)[number] => [
          name,
          async () => {
            const response = await api.post('/v1/events', { events: [valid(), { ...valid(), type, data }] });
            expect(response.body.action).to.match(action);
            expect(response.body.errors[0]).to.include({ index: 1 });
            return response;
          },
          422,
        ]),
        // No personal data in clear fields.
        [
          'an e-mail address in a clear field',
          () =>
            api.post('/v1/events', {
              events: [
                valid(),
                {
                  ...consentGiven(person()),
                  data: { ...consentGiven(person()).data, wordingVersion: 'v3 alice@example.org' },
                },
              ],
            }),
          400,
        ],
        [
          'a phone number in a clear field',
          () =>
            api.post('/v1/events', {
              events: [valid(), { ...valid(), type: 'ProcessingRestricted', data: { reason: '33612345678' } }],
            }),
          400,
        ],
        [
          'a tel: link as a policy url',
          () =>
            api.post('/v1/events', {
              events: [
                valid(),
                { ...valid(), type: 'PolicyAccepted', data: { kind: 'privacy', url: 'tel:+33612345678' } },
              ],
            }),
          400,
        ],
        [
          'a percent-encoded e-mail address in a policy url',
          () =>
            api.post('/v1/events', {
              events: [
                valid(),
                {
                  ...valid(),
                  type: 'PolicyAccepted',
                  data: { kind: 'privacy', url: 'https://example.org/p?u=alice%40example.org', version: 'v1' },
                },
              ],
            }),
          400,
        ],
        [
          'a contact id that is a phone number without + or 00',
          () => api.post('/v1/events', { events: [valid(), { ...valid(), contactId: '33612345678' }] }),
          400,
        ],
        [
          'a photo that is not base64',
          () =>
            api.post('/v1/events', {
              events: [
                valid(),
                { ...valid(), type: 'PhotoRecorded', data: { photo: 'not base64!', consentObtained: true } },
              ],
            }),
          400,
        ],
        [
          'a gzip body that does not inflate',
          () => api.postRaw('/v1/events', 'not gzip at all', 'application/json', { 'content-encoding': 'gzip' }),
          400,
          /does not decompress/,
        ],
        [
          'a brotli body that does not decompress',
          () => api.postRaw('/v1/events', 'not brotli', 'application/json', { 'content-encoding': 'br' }),
          400,
        ],
        [
          'a content encoding the server does not decode',
          () => api.postRaw('/v1/events', '{}', 'application/json', { 'content-encoding': 'compress' }),
          400,
          /unsupported body encoding/,
        ],
      ];
      for (const [name, send, status, detail] of cases) {
        it(`${name}: ${status}`, async () => {
          const response = await send();
          expect(response.status).to.equal(status);
          expect(response.type).to.match(/^application\/problem\+json/);
          expect(response.body).to.include.keys('type', 'title', 'status', 'detail');
          expect(response.body.status).to.equal(status);
          if (detail) expect(response.body.detail).to.match(detail);
          expect(await head()).to.equal(origin);
        });
      }

      it('points at the event index and the field', async () => {
        const response = await api.post('/v1/events', {
          events: [valid(), valid(), { ...valid(), data: { role: 'individual', email: 'not-an-email' } }],
        });
        expect(response.status).to.equal(400);
        expect(response.body.errors).to.deep.equal([
          { index: 2, pointer: '/data/email', message: 'must be a valid email' },
        ]);
      });

      it('never echoes a refused personal value', async () => {
        const p = person();
        const response = await api.post('/v1/events', { ...registered(p), contactId: p.email });
        expect(response.status).to.equal(400);
        expect(JSON.stringify(response.body)).not.to.contain(p.email);
      });
    },
  );
});

describe('GET /v1/contacts/:id and /events', () => {
  let ledger: TestLedger;
  let api: Api;
  before(async () => {
    ledger = await openTestLedger();
    await configureTestPurposes(ledger);
    api = await startApi(ledger);
  });
  after(async () => {
    await api.close();
    await ledger.dispose();
  });

  it('folds the personal view with the seals opened', async () => {
    const p = person();
    await api.post('/v1/events', { events: [registered(p), ticketSold(p, 'O-7'), consentGiven(p)] });
    const view = await api.get(`/v1/contacts/${p.contactId}`);
    expect(view.status).to.equal(200);
    expect(view.body).to.deep.include({ contactId: p.contactId, role: 'individual', status: 'active' });
    expect(view.body.details).to.deep.include({ firstName: p.firstName, email: p.email });
    expect(view.body.orders['O-7'].latestValidUntil).to.equal('2024-06-15T20:00:00.000Z');
    expect(view.body.consents.newsletter.status).to.equal('yes');
    const timeline = await api.get(`/v1/contacts/${p.contactId}/events`);
    expect(timeline.body.events.map((e: { type: string }) => e.type)).to.deep.equal([
      'ContactRegistered',
      'TicketSold',
      'ConsentGiven',
    ]);
    expect(timeline.body.events[1].data.ipAddress).to.equal(p.ip);
    expect(timeline.body.events[1].personal).to.equal('open');
  });

  it('404 for an unknown contact, 400 for an id that is personal data', async () => {
    expect((await api.get('/v1/contacts/C-unknown')).status).to.equal(404);
    const personal = await api.get('/v1/contacts/alice%40example.org');
    expect(personal.status).to.equal(400);
    expect(personal.text).not.to.contain('alice');
  });

  it('GET /health answers', async () => {
    const health = await api.get('/health');
    expect(health.status).to.equal(200);
    expect(health.body.status).to.equal('ok');
  });
});
