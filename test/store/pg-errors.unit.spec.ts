import { expect } from 'chai';
import pg from 'pg';
import { StoreUnavailable } from '../../src/domain/errors.js';
import { fromPg } from '../../src/postgres/pg-errors.js';

/** A server's error as node-postgres makes it from the wire (pg-protocol's DatabaseError), with its SQLSTATE. */
const serverError = (code: string, message: string) =>
  Object.assign(new pg.DatabaseError(message, message.length, 'error'), { code });
const networkError = (code: string) => Object.assign(new Error(`connect ${code} 127.0.0.1:5432`), { code });

/** The PostgreSQL adapter's outages leave src/postgres as StoreUnavailable (issue 25, item 6). */
describe("PostgreSQL errors mapped to the ledger's (fromPg)", () => {
  const outages: Array<[string, Error, string | undefined]> = [
    ['a refused connection', networkError('ECONNREFUSED'), 'ECONNREFUSED'],
    ['a reset connection', networkError('ECONNRESET'), 'ECONNRESET'],
    ['a host that DNS does not know (yet)', networkError('EAI_AGAIN'), 'EAI_AGAIN'],
    ['a connection failure (class 08)', serverError('08006', 'connection failure'), '08006'],
    ['an administrator shutdown', serverError('57P01', 'terminating connection due to administrator command'), '57P01'],
    [
      'a crash shutdown',
      serverError('57P02', 'terminating connection because of crash of another server process'),
      '57P02',
    ],
    ['a server starting up', serverError('57P03', 'the database system is starting up'), '57P03'],
    ['too many connections', serverError('53300', 'sorry, too many clients already'), '53300'],
    ['a statement past query_timeout', new Error('Query read timeout'), undefined],
    ['no free client of the pool in time', new Error('timeout exceeded when trying to connect'), undefined],
    ['a connection lost under a query', new Error('Connection terminated unexpectedly'), undefined],
    ['a connect past connectionTimeoutMillis', new Error('Connection terminated due to connection timeout'), undefined],
    ['a broken client', new Error('Client has encountered a connection error and is not queryable'), undefined],
    ['a closed client', new Error('Client was closed and is not queryable'), undefined],
  ];
  for (const [what, error, code] of outages) {
    it(`${what}: StoreUnavailable (503), its code kept, the driver's error as its cause`, () => {
      const mapped = fromPg(error);
      expect(mapped).to.be.instanceOf(StoreUnavailable);
      expect(mapped).to.include({ status: 503, code, cause: error });
      // The problem's detail is the ledger's own sentence: a driver's message may quote values.
      expect((mapped as StoreUnavailable).message).not.to.contain(error.message);
    });
  }

  const others: Array<[string, unknown]> = [
    ['a unique violation', serverError('23505', 'duplicate key value violates unique constraint "events_pkey"')],
    ['a syntax error', serverError('42601', 'syntax error at or near "SELEC"')],
    ['a serialization failure', serverError('40001', 'could not serialize access')],
    ['a bug of ours', new TypeError("Cannot read properties of undefined (reading 'position')")],
    ['not an error', 'Connection terminated'],
  ];
  for (const [what, error] of others) {
    it(`${what}: left as it is (not an outage)`, () => {
      expect(fromPg(error)).to.equal(error);
    });
  }

  it('maps once: a StoreUnavailable passes through', () => {
    const once = fromPg(networkError('ECONNREFUSED'));
    expect(fromPg(once)).to.equal(once);
  });
});
