import pg from 'pg';
import { StoreUnavailable } from '../domain/errors.js';
import { fromPg } from './pg-errors.js';

/**
 * A connection cut off mid-transaction (a stalled network) holds the log's head lock on the server
 * until the server gives up on it: then every other writer waits too. No transaction of the
 * ledger sits idle between two of its statements for this long.
 */
const IDLE_IN_TRANSACTION_MS = 60_000;
/** Creating a schema may build an index over a whole existing log, or wait for another process doing it. */
const SCHEMA_TIMEOUT_MS = 10 * 60_000;

/** A schema name as an SQL identifier: checked, then quoted. */
export function schemaIdentifier(schema: string): string {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema))
    throw new Error(`schema name must match [a-z_][a-z0-9_]*, got ${JSON.stringify(schema)}`);
  return `"${schema}"`;
}

/**
 * How every connection of the ledger waits for PostgreSQL: at most `timeoutMs` to connect (in a
 * pool, to get a client) and for each statement's answer, so that a stalled database is an outage
 * (a 503) and not a hang. The statement bound is the client's own: a server-side statement_timeout
 * never fires when the network, not the server, stalls. It bounds one statement, not a
 * transaction: a rebuild's long transactions and the batch are many short statements.
 */
export function connectionOptions(connectionString: string, timeoutMs: number): pg.ClientConfig {
  return {
    connectionString,
    connectionTimeoutMillis: timeoutMs,
    query_timeout: timeoutMs,
    idle_in_transaction_session_timeout: IDLE_IN_TRANSACTION_MS,
    keepAlive: true,
  };
}

/** A node-style callback whose error goes through fromPg first. */
const mapped =
  <A extends unknown[]>(callback: (error: Error | undefined, ...results: A) => void) =>
  (error: Error | undefined, ...results: A) =>
    callback(error && (fromPg(error) as Error), ...results);

/**
 * The one connection class of the adapter: the pool's clients (LedgerPool) and the dedicated ones
 * (LISTEN, the advisory locks). Its statements, its connect and its 'error' events give the
 * driver's errors through fromPg, so an outage leaves src/postgres as StoreUnavailable, whichever
 * way the caller asked (promise or callback, as pg-pool does).
 */
export class LedgerClient extends pg.Client {
  override connect(): Promise<pg.Client>;
  override connect(callback: (error: Error | undefined) => void): void;
  override connect(callback?: (error: Error | undefined) => void): Promise<pg.Client> | void {
    if (callback) return super.connect(mapped(callback));
    return super.connect().catch((error: unknown) => {
      throw fromPg(error);
    });
  }

  override emit(event: string | symbol, ...args: unknown[]): boolean {
    return event === 'error' ? super.emit(event, fromPg(args[0]), ...args.slice(1)) : super.emit(event, ...args);
  }
}

// LedgerClient's query: set on the prototype, not declared in the class, so that pg's typed
// overloads stay (text, config, submittable; with or without a callback); all of them reach this.
const query = pg.Client.prototype.query as (this: pg.Client, ...args: unknown[]) => unknown;
LedgerClient.prototype.query = function (this: LedgerClient, config: unknown, values?: unknown, callback?: unknown) {
  if (typeof values === 'function') return query.call(this, config, mapped(values as (error?: Error) => void));
  if (typeof callback === 'function')
    return query.call(this, config, values, mapped(callback as (error?: Error) => void));
  const result = query.call(this, config, values) as Promise<unknown> | undefined;
  // A submittable (a cursor) is returned as it is; a config carrying its own callback returns nothing.
  if (typeof (config as { submit?: unknown } | null)?.submit === 'function' || !result) return result;
  return result.catch((error: unknown) => {
    throw fromPg(error);
  });
} as pg.Client['query'];

type PoolCallback = (
  error: Error | undefined,
  client: pg.PoolClient | undefined,
  done: (release?: unknown) => void,
) => void;

/**
 * A pool of LedgerClients; its own errors (no free client within connectionTimeoutMillis) go
 * through fromPg too. The adapters take this class, not pg.Pool: a pool made elsewhere would let
 * the driver's errors out.
 */
export class LedgerPool extends pg.Pool {
  /** Nominal: a plain pg.Pool is not a LedgerPool. */
  declare private readonly nominal: never;

  constructor(config: Omit<pg.PoolConfig, 'Client'>) {
    super({ ...config, Client: LedgerClient });
  }

  override connect(): Promise<pg.PoolClient>;
  override connect(callback: PoolCallback): void;
  override connect(callback?: PoolCallback): Promise<pg.PoolClient> | void {
    if (callback) return super.connect(mapped(callback));
    return super.connect().catch((error: unknown) => {
      throw fromPg(error);
    });
  }
}

/**
 * A pool whose bigint and numeric columns stay strings (converted where read: positions fit in a
 * double), its connections named so that an operator (or a test) can find them. A client whose
 * statement timed out is discarded, not reused (pg-pool: released with its error).
 */
export function openPool(connectionString: string, applicationName: string, timeoutMs: number, max = 10): LedgerPool {
  const pool = new LedgerPool({
    ...connectionOptions(connectionString, timeoutMs),
    max,
    application_name: applicationName,
  });
  // A client losing its connection, idle or in use, must not crash the process: the query in
  // flight fails on its own (a 503), and the pool opens a new connection for the next one.
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));
  return pool;
}

/** Runs `work` in one transaction on one client: COMMIT if it resolves, ROLLBACK if it throws. */
export async function inTransaction<R>(pool: LedgerPool, work: (client: pg.PoolClient) => Promise<R>): Promise<R> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    client.release();
    return result;
  } catch (error) {
    // A connection out of reach (a statement timed out) is discarded rather than rolled back: that
    // would wait once more, and the server rolls back a transaction whose connection ends.
    if (error instanceof StoreUnavailable) client.release(error);
    else
      client.release(
        await client.query('ROLLBACK').then(
          () => undefined,
          (failed: Error) => failed,
        ),
      );
    throw error;
  }
}

/** A statement of schema creation, with its own longer bound (pg reads query_timeout per statement too). */
const schemaStatement = (text: string, values: unknown[] = []): pg.QueryConfig & { query_timeout: number } => ({
  text,
  values,
  query_timeout: SCHEMA_TIMEOUT_MS,
});

/**
 * Creates a schema's tables once even when several processes start together: DDL under a
 * transaction-scoped advisory lock named after the schema.
 */
export async function createSchema(pool: LedgerPool, schema: string, ddl: string): Promise<void> {
  await inTransaction(pool, async (client) => {
    await client.query(schemaStatement('SELECT pg_advisory_xact_lock(hashtext($1))', [`contact-ledger:${schema}`]));
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${schemaIdentifier(schema)}`);
    await client.query(schemaStatement(ddl));
  });
}
