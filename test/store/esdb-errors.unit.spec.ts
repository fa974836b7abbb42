import { expect } from 'chai';
import {
  AccessDeniedError,
  DeadlineExceededError,
  StreamNotFoundError,
  UnavailableError,
  UnknownError,
  WrongExpectedVersionError,
} from '@eventstore/db-client';
import { StoreUnavailable } from '../../src/domain/errors.js';
import { fromEsdb } from '../../src/eventstoredb/esdb-errors.js';

/** The EventStoreDB adapter's outages leave src/eventstoredb as StoreUnavailable (issue 25, item 6). */
describe("EventStoreDB errors mapped to the ledger's (fromEsdb)", () => {
  const outages: Array<[string, Error, string]> = [
    [
      'a lost or refused channel (UNAVAILABLE)',
      new UnavailableError(undefined, '14 UNAVAILABLE: No connection established'),
      'unavailable',
    ],
    [
      'a call past its deadline',
      new DeadlineExceededError(undefined, '4 DEADLINE_EXCEEDED: Deadline exceeded'),
      'deadline-exceeded',
    ],
  ];
  for (const [what, error, code] of outages) {
    it(`${what}: StoreUnavailable (503), the client's type as its code, the error as its cause`, () => {
      const mapped = fromEsdb(error);
      expect(mapped).to.be.instanceOf(StoreUnavailable);
      expect(mapped).to.include({ status: 503, code, cause: error });
      expect((mapped as StoreUnavailable).message).not.to.contain(error.message);
    });
  }

  const others: Array<[string, unknown]> = [
    [
      'a wrong expected version (the adapter answers ConcurrencyConflict itself, or retries)',
      new WrongExpectedVersionError(undefined, { streamName: 'contact-1', expected: 1n, current: 2n }),
    ],
    ['a stream not found (an empty stream to the adapter)', new StreamNotFoundError(undefined, 'contact-1')],
    ['access denied (a configuration mistake, not an outage)', new AccessDeniedError()],
    ['an unknown error', new UnknownError()],
    ['a bug of ours', new TypeError('x is undefined')],
  ];
  for (const [what, error] of others) {
    it(`${what}: left as it is`, () => {
      expect(fromEsdb(error)).to.equal(error);
    });
  }
});
