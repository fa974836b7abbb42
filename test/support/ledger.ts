import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { readConfig, type LedgerConfig } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { openLedger, type OpenLedger } from '../../src/app/open-ledger.js';

/** A temporary data directory with a fresh master key, as the embedded default uses it. */
export function tempDataDir(): { dir: string; env: NodeJS.ProcessEnv; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'ledger-test-'));
  const env = { ...process.env, LEDGER_DATA_DIR: dir, LEDGER_MASTER_KEY: randomBytes(32).toString('base64'), LOG_LEVEL: 'silent' };
  return { dir, env, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface TestLedger extends OpenLedger {
  dir: string;
  config: LedgerConfig;
  env: NodeJS.ProcessEnv;
  dispose(): Promise<void>;
}

/** Opens a real embedded ledger (SQLite files on disk) in a temporary directory. */
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
      data.remove();
    },
  };
  return handle;
}
