import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { startServer, type RunningServer } from '../support/server.js';
import { tempDataDir } from '../support/ledger.js';
import { newContactBatch } from '../support/events.js';
import { dropSchemas, TEST_DATABASE_URL, testSchemaName } from '../support/postgres.js';

/**
 * Database loss is an outage, not a crash (issue 16, finding 3): PostgreSQL terminates the
 * server's own connections (picked by application_name) under a publishing load.
 */
describe('PostgreSQL connections terminated under load', function () {
  this.timeout(120_000);
  const data = tempDataDir();
  const schema = testSchemaName();
  const applicationName = `ledger-test-${randomBytes(4).toString('hex')}`;
  const admin = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 1 });
  let server: RunningServer;

  before(async () => {
    server = await startServer({
      ...data.env,
      LEDGER_STORE: 'postgres',
      LEDGER_DATABASE_URL: TEST_DATABASE_URL,
      LEDGER_DATABASE_SCHEMA: schema,
      LEDGER_KEYS_SCHEMA: `${schema}_keys`,
      LEDGER_DATABASE_APPLICATION_NAME: applicationName,
    });
  });
  after(async () => {
    await server.stop();
    await dropSchemas(admin, [schema, `${schema}_keys`]);
    await admin.end();
    await data.remove();
  });

  const post = async (events: unknown[]) => {
    try {
      const response = await fetch(`${server.url}/v1/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${server.adminKey}` },
        body: JSON.stringify({ events }),
      });
      await response.text();
      return { status: response.status, retryAfter: response.headers.get('retry-after') };
    } catch {
      return { status: 0, retryAfter: null }; // the connection to the server itself failed
    }
  };

  it('never kills the process: 503 and Retry-After meanwhile, nothing partial, resumes on its own', async () => {
    const sent: Array<{ ids: string[]; status: number; retryAfter: string | null }> = [];
    let publishing = true;
    const publisher = async () => {
      while (publishing) {
        const events = newContactBatch();
        sent.push({ ids: events.map((event) => event.id), ...(await post(events)) });
      }
    };
    const publishers = Array.from({ length: 4 }, publisher);
    await new Promise((resolve) => setTimeout(resolve, 800));
    const terminated: number[] = [];
    for (let round = 0; round < 5; round++) {
      const { rows } = await admin.query<{ killed: boolean }>(
        'SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity WHERE application_name = $1',
        [applicationName],
      );
      terminated.push(rows.length);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    await new Promise((resolve) => setTimeout(resolve, 800));
    publishing = false;
    await Promise.all(publishers);

    expect(
      terminated.reduce((a, b) => a + b, 0),
      'connections terminated',
    ).to.be.above(0);
    expect(server.alive(), server.logs()).to.equal(true);
    const statuses = new Set(sent.map((one) => one.status));
    expect(
      [...statuses].every((status) => status === 201 || status === 503),
      [...statuses].join(),
    ).to.equal(true);
    for (const refused of sent.filter((one) => one.status === 503)) expect(refused.retryAfter).to.equal('5');

    // Publishing resumes on its own, and so do the read models (health back to ok, no lag).
    const resumed = Date.now();
    const within = async <T>(what: string, probe: () => Promise<T | null>): Promise<T> => {
      for (;;) {
        const found = await probe();
        if (found !== null) return found;
        if (Date.now() - resumed > 20_000) throw new Error(`${what} did not resume: ${server.logs()}`);
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    };
    await within('publishing', async () => ((await post(newContactBatch())).status === 201 ? true : null));
    const health = await within('the read models', async () => {
      const answer = (await fetch(`${server.url}/health`).then((r) => r.json())) as {
        status: string;
        projection?: { lag: number };
      };
      return answer.status === 'ok' && answer.projection?.lag === 0 ? answer : null;
    });
    expect(health.status).to.equal('ok');

    // Every acknowledged event is in the log; a refused batch is there whole or not at all.
    const { rows } = await admin.query<{ id: string }>(`SELECT id FROM "${schema}".events`);
    const stored = new Set(rows.map((row) => row.id));
    for (const one of sent) {
      const present = one.ids.filter((id) => stored.has(id)).length;
      if (one.status === 201) expect(present).to.equal(one.ids.length);
      else expect([0, one.ids.length]).to.include(present);
    }
  });
});
