import { randomBytes } from 'node:crypto';
import { userInfo } from 'node:os';
import type pg from 'pg';
import { LedgerPool } from '../../src/postgres/database.js';

/** PostgreSQL of this machine (README "Tests"): trust auth, database `test`. */
export const TEST_DATABASE_URL =
  process.env['TEST_DATABASE_URL'] ?? `postgresql://${userInfo().username}@127.0.0.1:5432/test`;

/** Every schema a test creates starts with this, so a run can sweep what a killed run left. */
export const TEST_SCHEMA_PREFIX = 'ledger_test_';

export const testSchemaName = () => `${TEST_SCHEMA_PREFIX}${randomBytes(6).toString('hex')}`;

/** Drops schemas (with their tables) created by tests; the names come from testSchemaName. */
export async function dropSchemas(pool: pg.Pool, schemas: readonly string[]): Promise<void> {
  for (const schema of schemas) await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
}

/** A pool on the test database (the adapters' own class), and the schemas to drop when the test is done. */
export function testDatabase() {
  const pool = new LedgerPool({ connectionString: TEST_DATABASE_URL, max: 10 });
  const schemas: string[] = [];
  return {
    pool,
    schema(): string {
      const name = testSchemaName();
      schemas.push(name);
      return name;
    },
    async dispose(): Promise<void> {
      await dropSchemas(pool, schemas);
      await pool.end();
    },
  };
}
