import { publish } from '../../src/app/publish.js';
import { expect } from 'chai';
import { openTestLedger, type TestLedger } from '../support/ledger.js';
import { runCli } from '../support/cli.js';
import { person, registered, ticketSold } from '../support/events.js';

/** The `ledger` command refuses bad input with one clear line and a non-zero exit, changing nothing. */
describe('ledger CLI: refusals', function () {
  this.timeout(60_000);
  let ledger: TestLedger;
  const [held, debtor, valid] = [person(), person(), person()];
  before(async () => {
    ledger = await openTestLedger();
    await publish(ledger, {
      events: [
        registered(held),
        {
          type: 'LegalHoldPlaced',
          contactId: held.contactId,
          organizationId: 'ORG-A',
          occurredAt: '2025-01-01T00:00:00Z',
          data: { reason: 'litigation' },
        },
        registered(debtor),
        {
          type: 'BalanceChanged',
          contactId: debtor.contactId,
          organizationId: 'ORG-A',
          occurredAt: '2025-01-01T00:00:00Z',
          data: { balance: -20, currency: 'EUR' },
        },
        registered(valid),
        ticketSold(valid, 'O-future', '2099-01-01T00:00:00Z', '2025-01-01T00:00:00Z'),
      ],
    });
    await ledger.close();
  });
  after(() => ledger.dispose());

  const cases: Array<[string, () => string[], number, RegExp]> = [
    ['a contact under legal hold', () => ['forget', held.contactId, '--reason', 'request'], 2, /legal hold/],
    ['a debtor', () => ['forget', debtor.contactId, '--reason', 'request'], 2, /debtor or creditor/],
    ['a contact holding a valid ticket', () => ['forget', valid.contactId, '--reason', 'request'], 2, /still valid/],
    ['an unknown contact', () => ['forget', 'C-nobody', '--reason', 'request'], 2, /no events for contact C-nobody/],
    [
      'a contact id that is an e-mail address, without echoing it',
      () => ['forget', held.email, '--reason', 'request'],
      2,
      /contactId is not an opaque id/,
    ],
    [
      'an operator id that is a phone number',
      () => ['forget', held.contactId, '--reason', 'request', '--operator', held.phone],
      2,
      /operator id is not an opaque id/,
    ],
    ['a missing reason', () => ['forget', held.contactId], 1, /--reason/],
    [
      'an unknown reason',
      () => ['forget', held.contactId, '--reason', 'boredom'],
      1,
      /Allowed choices are request, inactivity/,
    ],
  ];
  for (const [name, args, status, message] of cases) {
    it(`forget refuses ${name}`, () => {
      const result = runCli(args(), ledger.env);
      expect(result.status).to.equal(status);
      expect(result.stderr).to.match(message);
      expect(result.stdout).to.equal('');
      for (const personal of [held.email, held.phone, held.firstName]) expect(result.stderr).not.to.contain(personal);
    });
  }

  it('refusals appended nothing: the log still verifies with its 6 events', () => {
    const result = runCli(['audit', 'verify'], ledger.env);
    expect(result.stdout.trim()).to.equal('OK: 6 events in 3 streams verified');
  });
});
