import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { openTestLedger, type TestLedger } from '../support/ledger.js';
import { startApi, type Api } from '../support/http.js';
import { person, registered } from '../support/events.js';
import { publish } from '../../src/app/publish.js';
import { requestErasure } from '../../src/app/erasure-requests.js';
import { PROBLEM_TYPES } from '../../src/domain/problem-types.js';
import { IdempotencyConflict, RuleViolation } from '../../src/domain/errors.js';

/**
 * A problem's `type` is what clients switch on: written here as literals, the values clients have
 * seen since before the types were written down, so renaming one (or deriving it from a reworded
 * title again) fails this test.
 */
describe('problem types: stable, whatever the title says', function () {
  this.timeout(60_000);
  let ledger: TestLedger;
  let api: Api;
  const debtor = person();
  let requestId: string;
  before(async () => {
    ledger = await openTestLedger();
    api = await startApi(ledger);
    await publish(ledger, {
      events: [
        registered(debtor),
        {
          type: 'BalanceChanged',
          contactId: debtor.contactId,
          organizationId: 'ORG-A',
          occurredAt: '2025-01-01T00:00:00Z',
          data: { balance: -20, currency: 'EUR' },
        },
      ],
    });
    ({ requestId } = await requestErasure(ledger, { contactId: debtor.contactId, channel: 'email' }));
  });
  after(async () => {
    await api.close();
    await ledger.dispose();
  });

  const cases: Array<[string, (api: Api) => Promise<{ status: number; body: any }>, number, string]> = [
    ['malformed JSON', (a) => a.postRaw('/v1/events', '{', 'application/json'), 400, 'invalid-input'],
    ['no key', (a) => a.get('/v1/contacts/C-1', { authorization: '' }), 401, 'unauthenticated'],
    ['an unknown contact', (a) => a.get('/v1/contacts/C-nobody'), 404, 'unknown-contact'],
    ['an unknown stream', (a) => a.get('/v1/audit/verify?stream=contact-C-nobody'), 404, 'unknown-stream'],
    ['a body that is not JSON', (a) => a.postRaw('/v1/events', 'x', 'text/plain'), 415, 'unsupported-media-type'],
  ];
  for (const [name, send, status, type] of cases) {
    it(`${name}: ${status} urn:contact-ledger:problem:${type}`, async () => {
      const answer = await send(api);
      expect(answer.status).to.equal(status);
      expect(answer.body.type).to.equal(`urn:contact-ledger:problem:${type}`);
    });
  }

  it('no route: 404 about:blank', async () => {
    expect((await api.get('/v1/nothing-here')).body).to.include({ status: 404, type: 'about:blank' });
  });

  it('a rule: 422 rule-violation with the action the CLI prints too', async () => {
    const answer = await api.post(`/v1/erasure-requests/${requestId}/execute`, {});
    expect(answer.status).to.equal(422);
    expect(answer.body).to.include({
      type: 'urn:contact-ledger:problem:rule-violation',
      detail: 'the contact is a debtor or creditor',
      action: 'settle the balance to zero before forgetting',
    });
  });

  it('the type is the class’s own, not made from its title', () => {
    const conflict = new IdempotencyConflict('E-1');
    expect(conflict.title).to.equal('Event id already used');
    expect(conflict.type).to.equal('urn:contact-ledger:problem:event-id-already-used');
    expect(new RuleViolation('a rule', 'an action').type).to.equal('urn:contact-ledger:problem:rule-violation');
  });

  it("README's table lists every problem type, with its status", () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    for (const type of Object.values(PROBLEM_TYPES)) {
      const short = type.replace('urn:contact-ledger:problem:', '');
      expect(readme, type).to.match(new RegExp(`^\\| \`${short}\`( \\(the whole type\\))? \\| \\d{3} \\|`, 'm'));
    }
  });
});
