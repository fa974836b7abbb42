import { expect } from 'chai';
import { openTestLedger, type TestLedger } from '../support/ledger.js';
import { configureSubscriber, listSubscribers, readSubscribers } from '../../src/app/subscribers.js';
import { openLedger } from '../../src/app/open-ledger.js';
import { createLogger } from '../../src/log.js';

/**
 * A subscriber's checkpoint beyond the log's head (the log restored from an older copy, the
 * checkpoints not: test/reliability/delivery.reliability.ts restores one on SQLite) is brought back
 * to the head when the ledger opens, so what is appended after is delivered; on both stores.
 */
describe('delivery checkpoints beyond the log, when the ledger opens', function () {
  this.timeout(60_000);
  let ledger: TestLedger;
  before(async () => (ledger = await openTestLedger()));
  after(() => ledger.dispose());

  it('brings a checkpoint beyond the head back to it, and leaves one within the log as it is', async () => {
    await configureSubscriber(ledger, 'crm', { kind: 'webhook', url: 'http://127.0.0.1:9/hooks' });
    await configureSubscriber(ledger, 'warehouse', { kind: 'nats', subject: 'ledger.rewind' });
    const subscribers = await readSubscribers(ledger.store);
    const head = await ledger.store.headPosition();
    const { since: crm } = subscribers.get('crm')!;
    const { since: warehouse } = subscribers.get('warehouse')!;
    // Kept from a longer log than the one now there.
    await ledger.readModels.delivery.advanceDelivery(crm, 'crm', head + 500, []);
    await ledger.readModels.delivery.advanceDelivery(warehouse, 'warehouse', head - 1, []);
    await ledger.close();
    Object.assign(ledger, await openLedger(ledger.config, createLogger('silent')));
    const positions = (await listSubscribers(ledger)).map(({ name, delivery }) => [name, delivery.position]);
    expect(positions).to.deep.equal([
      ['crm', head],
      ['warehouse', head - 1],
    ]);
  });
});
