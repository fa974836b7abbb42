import { expect } from 'chai';
import { parseConnectionString } from '@eventstore/db-client/dist/Client/parseConnectionString.js';
import { withDeadlines } from '../../src/eventstoredb/esdb-event-store.js';

/** EventStoreDB calls wait at most LEDGER_DATABASE_TIMEOUT (issue 24, item 5), unless the operator set their own. */
describe('EventStoreDB deadlines from LEDGER_DATABASE_TIMEOUT', () => {
  it('adds the deadline and the keep-alive time-out to a connection string', () => {
    expect(withDeadlines('esdb://127.0.0.1:2113?tls=false', 4000)).to.equal(
      'esdb://127.0.0.1:2113?tls=false&defaultDeadline=4000&keepAliveTimeout=4000',
    );
    expect(withDeadlines('esdb://db:2113', 2500)).to.equal('esdb://db:2113?defaultDeadline=2500&keepAliveTimeout=2500');
    // As the client reads them.
    expect(parseConnectionString(withDeadlines('esdb://db:2113?tls=false', 2500))).to.include({
      defaultDeadline: 2500,
      keepAliveTimeout: 2500,
    });
  });

  it("keeps the operator's own settings, whatever their case", () => {
    expect(withDeadlines('esdb://db:2113?DefaultDeadline=900', 4000)).to.equal(
      'esdb://db:2113?DefaultDeadline=900&keepAliveTimeout=4000',
    );
    const both = 'esdb://db:2113?defaultDeadline=1&keepalivetimeout=2';
    expect(withDeadlines(both, 4000)).to.equal(both);
  });
});
