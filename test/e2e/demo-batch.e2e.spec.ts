import { expect } from 'chai';
import { openTestLedger, type TestLedger } from '../support/ledger.js';
import { expectedRun, expectSameMembers, outcomesOf, readLog, type ExpectedRun } from '../support/batch-oracle.js';
import { publishDemo } from '../../src/demo/demo.js';
import { runInactiveBatch } from '../../src/app/inactive-contacts-batch.js';

const AS_OF = new Date('2026-11-30T00:00:00Z');
const CUTOFF = '2023-11-30T00:00:00.000Z'; // 36 months before

/** The inactive batch on the demo institution, against outcomes computed without the batch's code (batch-oracle.ts). */
describe('inactive batch on the demo institution', function () {
  this.timeout(120_000);
  let ledger: TestLedger;
  let expected: ExpectedRun;

  before(async () => {
    ledger = await openTestLedger();
    await publishDemo(ledger, { contacts: 3000, seed: 11, until: new Date('2026-10-01T00:00:00Z') });
    await ledger.runner.catchUp();
    expected = expectedRun(await readLog(ledger.store), { cutoff: CUTOFF, now: new Date() });
  });
  after(() => ledger.dispose());

  it('the demo holds every outcome class', () => {
    for (const outcome of ['anonymized', 'erased', 'skippedDebtorOrCreditor', 'skippedLegalHold']) {
      expect(expected.contacts[outcome], outcome).to.have.length.greaterThan(0);
    }
    expect(expected.ordersPurged).to.have.length.greaterThan(0);
    if (process.env['TEST_LOG'])
      console.log(
        Object.entries(outcomesOf(expected))
          .map(([k, v]) => `${k} ${v.length}`)
          .join(', '),
      );
  });

  it('simulation and application both give the expected outcome of every contact and order', async () => {
    const simulated = await runInactiveBatch(ledger, { asOf: AS_OF });
    expectSameMembers(outcomesOf(simulated.report), outcomesOf(expected), 'the simulation');
    const applied = await runInactiveBatch(ledger, { asOf: AS_OF, apply: true });
    expectSameMembers(outcomesOf(applied.report), outcomesOf(expected), 'the run');
  });
});
