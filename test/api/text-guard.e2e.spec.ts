import { expect } from 'chai';
import { openTestLedger, type TestLedger } from '../support/ledger.js';
import { startApi, type Api } from '../support/http.js';
import { person, registered } from '../support/events.js';
import { publish } from '../../src/app/publish.js';
import { RuleViolation } from '../../src/domain/errors.js';

describe('text guard on the API: POST /v1/text-guard and the notes of a publish', () => {
  let ledger: TestLedger;
  let api: Api;
  const p = person();
  const note = (text: string) => ({
    type: 'NoteAdded',
    contactId: p.contactId,
    organizationId: 'ORG-A',
    occurredAt: '2024-05-01T10:00:00Z',
    data: { noteId: `N-${Math.random().toString(36).slice(2, 8)}`, text },
  });
  before(async () => {
    ledger = await openTestLedger();
    api = await startApi(ledger);
    await publish(ledger, registered(p));
  });
  after(async () => {
    await api.close();
    await ledger.dispose();
  });

  it("a text past the route's own limit: a 413 naming that limit, not the configured one", async () => {
    const response = await api.post('/v1/text-guard', { text: 'x'.repeat(70 * 1024) });
    expect(response.status).to.equal(413);
    expect(response.body.detail).to.equal('the request body is larger than this route takes (65536 bytes)');
    const batch = await api.post('/v1/events', { events: [note('y'.repeat(9 * 1024 * 1024))] });
    expect([batch.status, batch.body.detail]).to.deep.equal([
      413,
      'the request body is larger than the configured limit (LEDGER_MAX_BODY)',
    ]);
  });

  it('answers the categories, the words and the advice for a text', async () => {
    const response = await api.post('/v1/text-guard', { text: 'Cliente diabétique et syndiquée' });
    expect(response.status).to.equal(200);
    expect(
      response.body.warnings.map((w: { category: string; words: string[] }) => [w.category, w.words]),
    ).to.deep.equal([
      ['health', ['diabétique']],
      ['union-membership', ['syndiquée']],
    ]);
    expect(response.body.warnings[0].advice).to.match(/^Avoid directly or indirectly revealing/);
    // The recommendations come with every text, flagged or not (V1 page: on every remark saved).
    const plain = await api.post('/v1/text-guard', { text: 'Prefers aisle seats' });
    expect(plain.body.warnings).to.deep.equal([]);
    expect(plain.body.reminder).to.deep.equal(response.body.reminder);
    expect(plain.body.reminder.en.title).to.equal('Remark recommendations');
    expect(plain.body.reminder.fr.points).to.have.length(4);
  });

  for (const body of [{}, { text: '' }, { text: 7 }, { text: 'x'.repeat(10_001) }]) {
    it(`refuses ${JSON.stringify(body).slice(0, 30)} with a 400 problem`, async () => {
      const response = await api.post('/v1/text-guard', body);
      expect(response.status).to.equal(400);
      expect(response.type).to.match(/problem\+json/);
    });
  }

  it('warns in the publish response about the notes it appends (LEDGER_TEXT_GUARD=warn)', async () => {
    const response = await api.post('/v1/events', {
      events: [note('Arrived on time'), note('Très désagréable au guichet')],
    });
    expect(response.status).to.equal(201);
    expect(response.body.appended).to.have.length(2);
    expect(response.body.warnings).to.have.length(1);
    expect(response.body.warnings[0]).to.deep.include({
      index: 1,
      pointer: '/data/text',
      category: 'judgemental-or-offensive',
      words: ['désagréable'],
    });
    expect(response.body.reminder.en.points[2]).to.match(/^Avoid directly or indirectly revealing/);
  });

  it('returns the recommendations with every note or remark published, flagged or not, and only then', async () => {
    const remark = { ...note('Prefers the stalls'), type: 'RemarkSet', data: { text: 'Prefers the stalls' } };
    const plain = await api.post('/v1/events', remark);
    expect(plain.status, plain.text).to.equal(201);
    expect(plain.body.warnings).to.deep.equal([]);
    expect(plain.body.reminder.en.title).to.equal('Remark recommendations');
    const noText = await api.post('/v1/events', {
      type: 'PolicyAccepted',
      contactId: p.contactId,
      organizationId: 'ORG-A',
      occurredAt: '2024-05-01T10:00:00Z',
      data: { kind: 'privacy', url: 'https://example.org/privacy', version: 'v1' },
    });
    expect(noText.status, noText.text).to.equal(201);
    expect(noText.body).not.to.have.property('reminder');
  });

  it(
    'refuses the whole batch with a 422 that says what ' + 'to do, appending nothing (LEDGER_TEXT_GUARD=reject)',
    async () => {
      const head = await ledger.store.headPosition();
      const refusal = await publish(
        ledger,
        { events: [note('Arrived on time'), note('Casier judiciaire chargé')] },
        {
          textGuard: 'reject',
        },
      ).catch((error: unknown) => error);
      expect(refusal).to.be.instanceOf(RuleViolation);
      expect((refusal as RuleViolation).details['action']).to.match(/plain facts/);
      expect(await ledger.store.headPosition()).to.equal(head);
    },
  );
});
