import { expect } from 'chai';
import fc from 'fast-check';
import { openTestLedger, type TestLedger } from '../support/ledger.js';
import { startApi, type Api } from '../support/http.js';
import { configureTestPurposes } from '../support/events.js';
import { EVENT_TYPES } from '../../src/domain/catalog.js';

/**
 * Property-based fuzzing of POST /v1/events (issue 16): bodies near the valid ones (every type,
 * plausible and wrong fields, ids that collide, dates in and out of range) and plain garbage. Never
 * a 5xx, and the head moves by exactly the number of events the answer says were appended.
 */
describe('POST /v1/events under fuzzing', function () {
  this.timeout(300_000);
  let ledger: TestLedger;
  let api: Api;

  before(async () => {
    ledger = await openTestLedger();
    api = await startApi(ledger);
    await configureTestPurposes(ledger);
  });
  after(async () => {
    await api.close();
    await ledger.dispose();
  });

  const contactId = fc.constantFrom('C-1', 'C-2', 'C-3', 'a@b.org', '', 'C-'.padEnd(300, 'x'));
  const instant = fc.oneof(
    fc.constantFrom('2024-01-01T10:00:00Z', '2024-02-30T10:00:00Z', '1800-01-01T00:00:00Z', '2999-01-01T00:00:00Z'),
    fc
      .date({ min: new Date('1990-01-01'), max: new Date('2030-01-01'), noInvalidDate: true })
      .map((d) => d.toISOString()),
    fc.string(),
  );
  const field = fc.oneof(
    fc.string({ maxLength: 40 }),
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.constantFrom('individual', 'newsletter', 'portal', 'v1', 'email', 'dated', 'O-1', 'alice@example.org'),
    fc.record({ kind: fc.constantFrom('dated', 'undated'), validUntil: instant }, { requiredKeys: [] }),
  );
  const data = fc.dictionary(
    fc.constantFrom(
      'role',
      'firstName',
      'email',
      'purpose',
      'source',
      'wordingVersion',
      'preChecked',
      'orderId',
      'product',
      'campaignId',
      'channel',
      'text',
      'noteId',
      'balance',
      'currency',
      'reason',
      'criterion',
      'value',
      'extra',
    ),
    field,
    { maxKeys: 6 },
  );
  const envelope = fc.record(
    {
      id: fc.oneof(fc.uuid({ version: 7 }), fc.constantFrom('E-same', 'E-other')),
      type: fc.oneof(fc.constantFrom(...EVENT_TYPES), fc.string({ maxLength: 20 })),
      contactId,
      organizationId: fc.constantFrom('ORG-A', '', 'ORG-B'),
      occurredAt: instant,
      expectedRevision: fc.integer({ min: -2, max: 5 }),
      data,
    },
    { requiredKeys: ['type', 'contactId', 'organizationId', 'occurredAt', 'data'] },
  );
  // Near-valid: events that mostly pass, so that appends and duplicates are fuzzed too.
  const plausible = fc.record({
    id: fc.oneof(fc.uuid({ version: 7 }), fc.constantFrom('E-same', 'E-other')),
    type: fc.constantFrom('StatusPageVisited', 'MarketingLinkClicked', 'NoteAdded', 'ConsentGiven'),
    contactId: fc.constantFrom('C-1', 'C-2', 'C-3'),
    organizationId: fc.constant('ORG-A'),
    occurredAt: fc
      .date({ min: new Date('2000-01-01'), max: new Date('2025-01-01'), noInvalidDate: true })
      .map((d) => d.toISOString()),
    data: fc.oneof(
      fc.constant({}),
      fc.constant({ campaignId: 'CMP-1', channel: 'email' }),
      fc.record({ noteId: fc.constant('N-1'), text: fc.string({ minLength: 1, maxLength: 200 }) }),
      fc.record({
        purpose: fc.constantFrom('newsletter', 'sms', 'lottery'),
        source: fc.constantFrom('portal', 'form'),
        wordingVersion: fc.constant('v1'),
        preChecked: fc.boolean(),
      }),
    ),
  });
  const body = fc.oneof(
    { weight: 4, arbitrary: plausible },
    { weight: 2, arbitrary: fc.record({ events: fc.array(plausible, { maxLength: 6 }) }) },
    { weight: 5, arbitrary: envelope },
    { weight: 4, arbitrary: fc.record({ events: fc.array(envelope, { maxLength: 8 }) }) },
    { weight: 1, arbitrary: fc.jsonValue() },
  );

  it('never answers 5xx, and the head moves by exactly what was acknowledged (2,000 cases)', async () => {
    let appendedInAll = 0;
    await fc.assert(
      fc.asyncProperty(body, fc.boolean(), async (sent, raw) => {
        const head = await ledger.store.headPosition();
        const answer = raw
          ? await api.postRaw('/v1/events', JSON.stringify(sent).slice(0, -1)) // truncated JSON
          : await api.post('/v1/events', sent);
        expect(answer.status, answer.text).to.be.below(500);
        const appended = answer.status === 201 ? (answer.body.appended as unknown[]).length : 0;
        if (answer.status !== 201 && answer.status !== 200) expect(answer.type).to.match(/problem\+json/);
        expect(await ledger.store.headPosition()).to.equal(head + appended);
        appendedInAll += appended;
      }),
      { numRuns: 2000 },
    );
    expect(appendedInAll, 'some cases were valid and appended').to.be.above(0);
  });
});
