import { expect } from 'chai';
import { readConfig } from '../../src/config.js';

describe('LEDGER_DELIVERY_ATTEMPTS', () => {
  it('is a number of attempts from 1 to 9999; absent, the delivery keeps its default', () => {
    expect(readConfig({ LEDGER_DELIVERY_ATTEMPTS: '3' }).deliveryAttempts).to.equal(3);
    expect(readConfig({})).to.not.have.property('deliveryAttempts');
    for (const bad of ['0', '-1', 'ten', '2.5', '']) {
      expect(() => readConfig({ LEDGER_DELIVERY_ATTEMPTS: bad }), bad).to.throw(/LEDGER_DELIVERY_ATTEMPTS must be/);
    }
  });
});
