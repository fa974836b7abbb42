import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { publishBatch } from '../../examples/publish-batch.js';
import { createLedgerClient, unwrap, type PublishedEvent } from '../../src/client/index.js';
import { startApi } from '../support/http.js';
import { openTestLedger, tempDataDir } from '../support/ledger.js';
import { startServer, type RunningServer } from '../support/server.js';
import { person, personalValues } from '../support/events.js';
import { detailsChanged, registration, unreachableFor } from '../support/client.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const EXAMPLE = 'examples/publish-batch.ts';

/** Runs the example as an upstream system would, on a batch file: its exit code and what it printed. */
function runExample(server: RunningServer, events: PublishedEvent[]): Promise<{ code: number; out: string }> {
  const file = `${data.dir}/batch-${Math.random().toString(36).slice(2)}.json`;
  writeFileSync(file, JSON.stringify({ events }));
  const child = spawn(process.execPath, ['--import', 'tsx', EXAMPLE, file], {
    cwd: root,
    env: { ...process.env, LEDGER_URL: server.url, LEDGER_API_KEY: server.adminKey! },
  });
  let out = '';
  child.stdout.on('data', (chunk) => (out += chunk));
  child.stderr.on('data', (chunk) => (out += chunk));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code: code ?? 1, out: out.trim() })));
}

const data = tempDataDir();

describe('README "Client": the example of an upstream system publishing a batch', function () {
  this.timeout(60_000);
  let server: RunningServer;
  before(async () => {
    server = await startServer(data.env);
  });
  after(async () => {
    await server.stop();
    await data.remove();
  });

  it('is the file the README shows, verbatim', () => {
    const example = readFileSync(new URL(`../../${EXAMPLE}`, import.meta.url), 'utf8');
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    expect(readme).to.contain('```ts\n' + example + '```\n');
  });

  it('publishes a batch to the running ledger, and the same batch again as duplicates', async () => {
    const [a, b] = [person(), person()];
    const events = [registration(a), registration(b)];
    expect(await runExample(server, events)).to.deep.equal({ code: 0, out: 'appended 2, duplicates 0' });
    const again = await runExample(server, events);
    expect(again).to.deep.equal({ code: 0, out: 'appended 0, duplicates 2' });
  });

  it('a 409: re-reads the contact and publishes expecting the revision the ledger has now', async () => {
    const p = person();
    expect((await runExample(server, [registration(p)])).out).to.equal('appended 1, duplicates 0');
    const outcome = await runExample(server, [detailsChanged(p, 4)]);
    expect(outcome).to.deep.equal({ code: 0, out: 'appended 1, duplicates 0' });
    const ledger = createLedgerClient({ baseUrl: server.url, apiKey: server.adminKey! });
    const view = await unwrap(ledger.GET('/v1/contacts/{contactId}', { params: { path: { contactId: p.contactId } } }));
    expect(view.details.phone).to.equal(p.phone);
  });

  it('a refusal: one line with the problem, exit 1, no personal value printed', async () => {
    const [a, b] = [person(), person()];
    const first = registration(a);
    await runExample(server, [first]);
    const outcome = await runExample(server, [{ ...registration(b), id: first.id }]);
    expect(outcome).to.deep.equal({
      code: 1,
      out: '409 Event id already used (urn:contact-ledger:problem:event-id-already-used)',
    });
    for (const value of [...personalValues(a), ...personalValues(b)]) expect(outcome.out).not.to.contain(value);
    expect(server.logs()).not.to.contain(a.email);
  });

  it('a 503: the same batch again after Retry-After, stored once', async () => {
    const ledger = await openTestLedger();
    const api = await startApi(ledger);
    try {
      const events = [registration(person()), registration(person())];
      unreachableFor(ledger, 2);
      const waits: number[] = [];
      const client = createLedgerClient({ baseUrl: api.url, apiKey: api.adminKey });
      const result = await publishBatch(client, events, async (ms) => waits.push(ms));
      expect(waits).to.deep.equal([5000, 5000]);
      expect(result.appended.map((appended) => appended.id)).to.deep.equal(events.map((event) => event.id));
    } finally {
      await api.close();
      await ledger.dispose();
    }
  });
});
