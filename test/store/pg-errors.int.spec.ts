import { once } from 'node:events';
import { expect } from 'chai';
import pg from 'pg';
import { StoreUnavailable } from '../../src/domain/errors.js';
import { LedgerClient, LedgerPool, inTransaction } from '../../src/postgres/database.js';
import { TEST_DATABASE_URL } from '../support/postgres.js';

const refusal = (promise: Promise<unknown>) =>
  promise.then(
    () => expect.fail('expected a refusal'),
    (error: unknown) => error,
  );
const pidOf = async (pool: LedgerPool) =>
  (await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;

/**
 * Every way the adapter talks to PostgreSQL (a pool's query and connect, a pooled client's
 * statements, a dedicated client's connect, statements and 'error' events) gives an outage as
 * StoreUnavailable, from inside src/postgres (issue 25, item 6).
 */
describe('PostgreSQL outages leave the adapter as StoreUnavailable', () => {
  const pools: LedgerPool[] = [];
  const poolOf = (config: pg.PoolConfig) => {
    const pool = new LedgerPool({ connectionString: TEST_DATABASE_URL, ...config });
    pool.on('error', () => {});
    pools.push(pool);
    return pool;
  };
  after(async () => {
    for (const pool of pools) await pool.end().catch(() => {});
  });

  it('a statement past query_timeout, through the pool and through a pooled client', async () => {
    const pool = poolOf({ max: 1, query_timeout: 200 });
    const viaPool = await refusal(pool.query('SELECT pg_sleep(2)'));
    expect(viaPool).to.be.instanceOf(StoreUnavailable);
    expect((viaPool as Error).cause).to.have.property('message', 'Query read timeout');
    const client = await pool.connect();
    try {
      expect(await refusal(client.query('SELECT pg_sleep(2)'))).to.be.instanceOf(StoreUnavailable);
    } finally {
      client.release(true);
    }
  });

  it('inTransaction discards a client whose statement timed out, and keeps one after a wrong statement', async () => {
    const pool = poolOf({ max: 1, query_timeout: 300 });
    const first = await pidOf(pool);
    const wrong = await refusal(inTransaction(pool, (client) => client.query('SELEC 1')));
    expect(wrong).to.be.instanceOf(pg.DatabaseError).and.to.include({ code: '42601' });
    expect(await pidOf(pool)).to.equal(first);
    const timedOut = await refusal(inTransaction(pool, (client) => client.query('SELECT pg_sleep(2)')));
    expect(timedOut).to.be.instanceOf(StoreUnavailable);
    expect(await pidOf(pool)).not.to.equal(first);
  });

  it('a refused connection, through the pool and a dedicated client', async () => {
    const pool = new LedgerPool({ connectionString: 'postgresql://nobody@127.0.0.1:1/test' });
    pools.push(pool);
    expect(await refusal(pool.query('SELECT 1')))
      .to.be.instanceOf(StoreUnavailable)
      .and.include({
        code: 'ECONNREFUSED',
      });
    expect(await refusal(pool.connect())).to.be.instanceOf(StoreUnavailable);
    const client = new LedgerClient('postgresql://nobody@127.0.0.1:1/test');
    client.on('error', () => {});
    expect(await refusal(client.connect())).to.be.instanceOf(StoreUnavailable);
  });

  it('no free client of the pool within connectionTimeoutMillis', async () => {
    const pool = poolOf({ max: 1, connectionTimeoutMillis: 200 });
    const held = await pool.connect();
    try {
      const error = await refusal(pool.query('SELECT 1'));
      expect(error).to.be.instanceOf(StoreUnavailable);
      expect((error as Error).cause).to.have.property('message', 'timeout exceeded when trying to connect');
    } finally {
      held.release();
    }
  });

  it("a dedicated client's connection ended by the server: its 'error' event and its next statement", async () => {
    const admin = poolOf({ max: 1 });
    const client = new LedgerClient(TEST_DATABASE_URL);
    await client.connect();
    const pid = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
    const failed = once(client, 'error');
    await admin.query('SELECT pg_terminate_backend($1)', [pid]);
    const [error] = (await failed) as [unknown];
    expect(error).to.be.instanceOf(StoreUnavailable).and.include({ code: '57P01' });
    expect(await refusal(client.query('SELECT 1'))).to.be.instanceOf(StoreUnavailable);
    await client.end().catch(() => {});
  });

  it('a wrong statement stays what it is (not an outage)', async () => {
    const pool = poolOf({ max: 1 });
    const error = await refusal(pool.query('SELECT * FROM no_such_table_here'));
    expect(error).to.be.instanceOf(pg.DatabaseError).and.to.include({ code: '42P01' });
  });
});
