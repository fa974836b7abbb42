import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { readConfig, type LedgerConfig } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { openLedger, type OpenLedger } from '../../src/app/open-ledger.js';
import pg from 'pg';
import { TEST_DATABASE_URL, dropSchemas, testSchemaName } from './postgres.js';

/** The backend feature tests run on: LEDGER_STORE of the test run (npm test runs sqlite, then postgres). */
export const TEST_STORE = process.env['LEDGER_STORE'] ?? 'sqlite';

/**
 * A temporary data directory with a fresh master key, and on PostgreSQL (the test run's store, or
 * `store`) fresh schemas for the events and read models and for the keys; `remove` deletes them all.
 */
export function tempDataDir(store = TEST_STORE): { dir: string; env: NodeJS.ProcessEnv; remove(): Promise<void> } {
  const dir = mkdtempSync(join(tmpdir(), 'ledger-test-'));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    LEDGER_STORE: store,
    LEDGER_DATA_DIR: dir,
    LEDGER_MASTER_KEY: randomBytes(32).toString('base64'),
    LOG_LEVEL: 'silent',
  };
  const schemas: string[] = [];
  if (store === 'postgres') {
    const schema = testSchemaName();
    schemas.push(schema, `${schema}_keys`);
    Object.assign(env, {
      LEDGER_DATABASE_URL: TEST_DATABASE_URL,
      LEDGER_DATABASE_SCHEMA: schema,
      LEDGER_KEYS_SCHEMA: `${schema}_keys`,
    });
  }
  return {
    dir,
    env,
    remove: async () => {
      rmSync(dir, { recursive: true, force: true });
      if (schemas.length > 0) {
        const pool = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 1 });
        await dropSchemas(pool, schemas).finally(() => pool.end());
      }
    },
  };
}

export interface TestLedger extends OpenLedger {
  dir: string;
  config: LedgerConfig;
  env: NodeJS.ProcessEnv;
  dispose(): Promise<void>;
}

/** Opens a real ledger in a temporary directory: SQLite files on disk, or PostgreSQL schemas (TEST_STORE). */
export async function openTestLedger(): Promise<TestLedger> {
  const data = tempDataDir();
  const config = readConfig(data.env);
  const opened = await openLedger(config, createLogger('silent'));
  const handle: TestLedger = {
    ...opened,
    dir: data.dir,
    config,
    env: data.env,
    // Closes whatever ledger the test left open here (tests may reopen the directory).
    dispose: async () => {
      await handle.close();
      await data.remove();
    },
  };
  return handle;
}
