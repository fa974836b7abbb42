import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { startServer, type RunningServer } from '../support/server.js';
import { tempDataDir } from '../support/ledger.js';
import { newContactBatch } from '../support/events.js';
import { dropSchemas, TEST_DATABASE_URL, testSchemaName } from '../support/postgres.js';

const proxyScript = fileURLToPath(new URL('../support/tcp-proxy.ts', import.meta.url));
const TIMEOUT_SECONDS = 2;
const FREEZE_MS = 7_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A stalled database is an outage, not a hang (issue 24, finding 3): a TCP proxy in front of
 * PostgreSQL is frozen (SIGSTOP) under a publishing load, so connections stay open and nothing
 * answers. Every request still answers in bounded time, /health within a second.
 */
describe('PostgreSQL stalled under load (a frozen proxy)', function () {
  this.timeout(60_000);
  const data = tempDataDir();
  const schema = testSchemaName();
  const admin = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 1 });
  let proxy: ChildProcess;
  let server: RunningServer;

  before(async () => {
    const target = new URL(TEST_DATABASE_URL);
    proxy = spawn(process.execPath, ['--import', 'tsx', proxyScript, target.port || '5432'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const [port] = (await once(proxy.stdout!, 'data')) as [Buffer];
    target.host = `127.0.0.1:${String(port).trim()}`;
    server = await startServer({
      ...data.env,
      LEDGER_STORE: 'postgres',
      LEDGER_DATABASE_URL: target.toString(),
      LEDGER_DATABASE_SCHEMA: schema,
      LEDGER_KEYS_SCHEMA: `${schema}_keys`,
      LEDGER_DATABASE_TIMEOUT: String(TIMEOUT_SECONDS),
    });
  });
  after(async () => {
    proxy.kill('SIGCONT');
    await server?.stop();
    proxy.kill('SIGTERM');
    await dropSchemas(admin, [schema, `${schema}_keys`]);
    await admin.end();
    await data.remove();
  });

  const timed = async (path: string, init: RequestInit = {}) => {
    const started = Date.now();
    try {
      const response = await fetch(`${server.url}${path}`, { ...init, signal: AbortSignal.timeout(30_000) });
      const body = await response.text();
      return {
        status: response.status,
        retryAfter: response.headers.get('retry-after'),
        body,
        ms: Date.now() - started,
      };
    } catch {
      return { status: 0, retryAfter: null, body: '', ms: Date.now() - started }; // no answer at all
    }
  };
  const post = (events: unknown[]) =>
    timed('/v1/events', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${server.adminKey}` },
      body: JSON.stringify({ events }),
    });

  it('answers every request in bounded time (201, or 503 with Retry-After), /health within a second', async () => {
    const sent: Array<{ ids: string[]; status: number; retryAfter: string | null; ms: number }> = [];
    let publishing = true;
    const publisher = async () => {
      while (publishing) {
        const events = newContactBatch();
        sent.push({ ids: events.map((event) => event.id), ...(await post(events)) });
      }
    };
    const publishers = Array.from({ length: 4 }, publisher);
    await sleep(800);
    proxy.kill('SIGSTOP');
    const frozenAt = Date.now();
    const healthDuringFreeze: Array<Awaited<ReturnType<typeof timed>>> = [];
    while (Date.now() - frozenAt < FREEZE_MS) {
      healthDuringFreeze.push(await timed('/health'));
      await sleep(300);
    }
    const refusedWhileFrozen = sent.filter((one) => one.status === 503).length;
    proxy.kill('SIGCONT');
    await sleep(1_000);
    publishing = false;
    await Promise.all(publishers);

    expect(server.alive(), server.logs()).to.equal(true);
    const slowest = Math.max(...sent.map((one) => one.ms));
    // One wait for a connection or a statement, and at most one more for the group commit ahead of it.
    expect(slowest, 'slowest publish (ms)').to.be.at.most(2 * TIMEOUT_SECONDS * 1000 + 1000);
    for (const one of sent) {
      expect([201, 503], `status after ${one.ms} ms`).to.include(one.status);
      if (one.status === 503) expect(one.retryAfter).to.equal('5');
    }
    expect(refusedWhileFrozen, 'publishes refused while frozen').to.be.above(0);
    for (const health of healthDuringFreeze) {
      expect(health.ms, '/health time (ms)').to.be.at.most(1000);
      expect(health.status).to.equal(503);
      expect(health.retryAfter).to.equal('5');
      expect(JSON.parse(health.body)).to.include({ status: 'degraded', database: 'unavailable' });
    }

    // Everything recovers: publishing, then the read models (health ok, no lag).
    const resumed = Date.now();
    const within = async <T>(what: string, probe: () => Promise<T | null>): Promise<T> => {
      for (;;) {
        const found = await probe();
        if (found !== null) return found;
        if (Date.now() - resumed > 20_000) throw new Error(`${what} did not resume: ${server.logs()}`);
        await sleep(250);
      }
    };
    await within('publishing', async () => ((await post(newContactBatch())).status === 201 ? true : null));
    await within('the read models', async () => {
      const answer = await timed('/health');
      const body = answer.status === 200 ? (JSON.parse(answer.body) as { projection: { lag: number } }) : null;
      return body?.projection.lag === 0 ? body : null;
    });

    // Nothing partial: every acknowledged event is in the log once; a refused batch whole or not at all.
    const { rows } = await admin.query<{ id: string; copies: string }>(
      `SELECT id, count(*) AS copies FROM "${schema}".events GROUP BY id`,
    );
    const stored = new Map(rows.map((row) => [row.id, Number(row.copies)]));
    expect([...stored.values()].every((copies) => copies === 1)).to.equal(true);
    for (const one of sent) {
      const present = one.ids.filter((id) => stored.has(id)).length;
      if (one.status === 201) expect(present).to.equal(one.ids.length);
      else expect([0, one.ids.length]).to.include(present);
    }
  });
});
