import pg from 'pg';

/** A schema name as an SQL identifier: checked, then quoted. */
export function schemaIdentifier(schema: string): string {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema))
    throw new Error(`schema name must match [a-z_][a-z0-9_]*, got ${JSON.stringify(schema)}`);
  return `"${schema}"`;
}

/**
 * A pool whose bigint and numeric columns stay strings (converted where read: positions fit in a
 * double), its connections named so that an operator (or a test) can find them.
 */
export function openPool(connectionString: string, applicationName: string, max = 10): pg.Pool {
  const pool = new pg.Pool({ connectionString, max, application_name: applicationName });
  // A client losing its connection, idle or in use, must not crash the process: the query in
  // flight fails on its own (a 503), and the pool opens a new connection for the next one.
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));
  return pool;
}

/** Runs `work` in one transaction on one client: COMMIT if it resolves, ROLLBACK if it throws. */
export async function inTransaction<R>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<R>): Promise<R> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}

/**
 * Creates a schema's tables once even when several processes start together: DDL under a
 * transaction-scoped advisory lock named after the schema.
 */
export async function createSchema(pool: pg.Pool, schema: string, ddl: string): Promise<void> {
  await inTransaction(pool, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`contact-ledger:${schema}`]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${schemaIdentifier(schema)}`);
    await client.query(ddl);
  });
}
