import { expect } from 'chai';
import { openTestLedger, type TestLedger } from '../support/ledger.js';
import { editLog } from '../support/stored.js';
import { person, registered } from '../support/events.js';
import { publish } from '../../src/app/publish.js';
import { LogMismatchError, ProjectionRunner } from '../../src/projections/runner.js';

/**
 * Read models folded from another log than the one there now (issue 24, finding 1): the
 * checkpoint records the hash of the record it points at, so a log of the same length but another
 * history shows too, not only one shorter than the checkpoint (restore.reliability.ts).
 */
describe('read models folded from another log', function () {
  this.timeout(60_000);
  let ledger: TestLedger;
  const first = person();
  const second = person();

  beforeEach(async () => {
    ledger = await openTestLedger();
    await publish(ledger, { events: [registered(first), registered(second)] });
    await ledger.runner.catchUp();
  });
  afterEach(() => ledger.dispose());

  it('agree with the log they were folded from', async () => {
    expect(await ledger.runner.checkAgainstLog()).to.equal(null);
  });

  it('another record at the checkpoint: rebuilt by the next catch-up, and said so', async () => {
    const head = await ledger.store.headPosition();
    await editLog(ledger, 'UPDATE events SET hash = ? WHERE position = ?', ['f'.repeat(64), head]);
    expect(await ledger.runner.catchUp()).to.equal(head);
    expect((await ledger.runner.lag()).logMismatch).to.include({
      reason: 'otherHistory',
      action: 'rebuilt',
      checkpoint: head,
      head,
    });
    expect(await ledger.readModels.contact(second.contactId)).not.to.equal(null);
  });

  it('refused, naming the rebuild command, by a runner told to refuse', async () => {
    const head = await ledger.store.headPosition();
    await editLog(ledger, 'UPDATE events SET hash = ? WHERE position = ?', ['f'.repeat(64), head]);
    const refusing = new ProjectionRunner(ledger.store, ledger.readModels, { onLogMismatch: 'refuse' });
    const refusal = await refusing.catchUp().catch((error: unknown) => error);
    expect(refusal).to.be.instanceOf(LogMismatchError);
    expect((refusal as Error).message).to.match(/another record at the read models' position.*projections rebuild/);
  });
});
