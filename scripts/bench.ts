/**
 * `npm run bench`: the issue targets, measured on realistic data with the production durability
 * setting (WAL, synchronous=FULL), each beside the physical limit measured in the same run.
 * Usage: npm run bench [-- --events 200000 --contacts 10000]
 */
import { appendSealed } from '../src/app/append-sealed.js';
import { publish } from '../src/app/publish.js';
import { issueApiKey } from '../src/app/issue-api-key.js';
import { contactView } from '../src/app/contact-view.js';
import { issueConsentLink } from '../src/app/consent-links.js';
import { runInactiveBatch } from '../src/app/inactive-contacts-batch.js';
import { configurePurpose } from '../src/app/purposes.js';
import { expireConsents } from '../src/app/consent-expiry.js';
import { targetCampaign } from '../src/app/targeting.js';
import type { PurposeSettings } from '../src/domain/purposes.js';
import { consentAnswers, type ConsentState } from '../src/domain/consent.js';
import { randomBytes, createHash, createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, cpus, userInfo } from 'node:os';
import pg from 'pg';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { v7 as uuidv7 } from 'uuid';
import { readConfig } from '../src/config.js';
import { createLogger } from '../src/log.js';
import { openLedger, type OpenLedger } from '../src/app/open-ledger.js';
import { LEDGER_EVENT_INDEXES } from '../src/store/ledger-event-indexes.js';
import { validateEnvelopes, type ValidEvent } from '../src/domain/envelope.js';
import { seal } from '../src/crypto/seal.js';
import { RowProofs } from '../src/crypto/row-proof.js';
import { MasterKey } from '../src/crypto/master-key.js';
import { INSERT_EVENT, insertValues, openEventsDb } from '../src/store/events-db.js';
import { pagesAfter, pagesAfterBy } from '../src/store/pages.js';
import { foldPageReader } from '../src/projections/bulk/sqlite-page-source.js';
import { BULK_PAGE } from '../src/projections/runner.js';
import { contactRow, newContactRecord } from '../src/projections/contact-record.js';
import { columnsOf, CONTACTS, LISTED_CONTACT } from '../src/projections/tables.js';
import { INACTIVITY_COLUMNS } from '../src/projections/read-model-store.js';
import {
  contactEvents,
  DEMO_PURPOSES,
  mulberry32,
  syntheticEnvelopes,
  syntheticStream,
} from '../src/demo/synthetic.js';
import { createApp } from '../src/api/app.js';
import Database from 'better-sqlite3';
import { spawn, spawnSync } from 'node:child_process';
import { loadTest } from 'loadtest';
import { get as httpGet, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { createServer } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect as connectNats } from 'nats';
import { DEFAULT_NATS_URL } from '../src/config.js';
import { configureSubscriber, readSubscribers, removeSubscriber } from '../src/app/subscribers.js';
import { forgetContact } from '../src/app/forget-contact.js';
import { deliveryMessage, type SubscriberSettings } from '../src/domain/subscribers.js';
import { verifyWebhook, webhookSecretFrom } from '../src/crypto/webhook-signature.js';
import { postWebhook } from '../src/jobs/webhook-sender.js';
import { DEFAULT_NATS_IN_FLIGHT, DeliveryRunner } from '../src/jobs/delivery.js';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '200000' },
    contacts: { type: 'string', default: '10000' },
    batch: { type: 'string', default: '100' },
    publishers: { type: 'string', default: '4' },
    'rebuild-events': { type: 'string', default: '1000000' },
    'recency-contacts': { type: 'string', default: '1000000' },
    'demo-contacts': { type: 'string', default: '100000' },
    'batch-contacts': { type: 'string', default: '100000' },
    'consent-contacts': { type: 'string', default: '1000000' },
    'delivery-events': { type: 'string', default: '50000' },
    /**
     * `append`: the store append and its physical limits alone (`postgres`: and PostgreSQL beside them);
     * `api`, `batch`, `consents` or `rebuild`: the store append (a ratio's denominator), then that part alone;
     * `delivery`: the delivery to subscribers alone (beside the bare NATS publishes and HTTP POSTs).
     */
    only: { type: 'string' },
  },
});
const totalEvents = Number(values.events);
const contacts = Number(values.contacts);
const batchSize = Number(values.batch);
const publishers = Number(values.publishers);

const results: Array<{ measure: string; value: string; target: string; note: string }> = [];
const record = (measure: string, value: string, target: string, note = '') => {
  results.push({ measure, value, target, note });
  console.error(`  ${measure}: ${value} ${note}`);
};
const rate = (count: number, ms: number) => Math.round((count / ms) * 1000);
const time = async <T>(work: () => Promise<T> | T): Promise<[T, number]> => {
  const started = performance.now();
  const result = await work();
  return [result, performance.now() - started];
};

/** PostgreSQL of the bench (BENCH_DATABASE_URL; default this machine's, database test). */
const benchDatabaseUrl = process.env['BENCH_DATABASE_URL'] ?? `postgresql://${userInfo().username}@127.0.0.1:5432/test`;

/** A fresh ledger: SQLite files in a temporary directory, or fresh PostgreSQL schemas (dropped by `dispose`). */
async function openBenchLedger(store: 'sqlite' | 'postgres' = 'sqlite') {
  const dir = mkdtempSync(join(tmpdir(), 'ledger-bench-'));
  const schema = `ledger_bench_${randomBytes(4).toString('hex')}`;
  const env: Record<string, string> = { LEDGER_DATA_DIR: dir, LEDGER_MASTER_KEY: randomBytes(32).toString('base64') };
  if (store === 'postgres') {
    Object.assign(env, {
      LEDGER_STORE: 'postgres',
      LEDGER_DATABASE_URL: benchDatabaseUrl,
      LEDGER_DATABASE_SCHEMA: schema,
      LEDGER_KEYS_SCHEMA: `${schema}_keys`,
    });
  }
  const config = readConfig(env);
  const dispose = async () => {
    rmSync(dir, { recursive: true, force: true });
    if (store !== 'postgres') return;
    const pool = new pg.Pool({ connectionString: benchDatabaseUrl, max: 1 });
    for (const name of [schema, `${schema}_keys`]) await pool.query(`DROP SCHEMA IF EXISTS "${name}" CASCADE`);
    await pool.end();
  };
  return { opened: await openLedger(config, createLogger('silent')), dir, config, env, schema, dispose };
}

/** The whole log in pages of 5,000, as every reader pages it. */
const readAllPages = (opened: OpenLedger) =>
  pagesAfter((after, limit) => opened.store.readAll({ after, limit }), 0, 5000);

/** Appends every event in batches, from `publishers` concurrent publishers taking batches in turn. */
async function appendAll(opened: OpenLedger, events: ValidEvent[], publishers: number): Promise<number> {
  let next = 0;
  const publisher = async () => {
    for (let i = next; i < events.length; i = next) {
      next += batchSize;
      await appendSealed(opened, events.slice(i, i + batchSize));
    }
  };
  const [, ms] = await time(() => Promise.all(Array.from({ length: publishers }, publisher)));
  return rate(events.length, ms);
}

function toValid(envelopes: unknown[]): ValidEvent[] {
  const now = new Date();
  const valid: ValidEvent[] = [];
  for (let i = 0; i < envelopes.length; i += 1000)
    valid.push(...validateEnvelopes(envelopes.slice(i, i + 1000), { now, newId: uuidv7 }));
  return valid;
}

/** Physical limit: the same stored rows inserted raw into the same schema and pragmas, same batch size. */
function rawSqliteInserts(rows: unknown[][]): number {
  const dir = mkdtempSync(join(tmpdir(), 'ledger-raw-'));
  const db = openEventsDb(join(dir, 'raw.db'), LEDGER_EVENT_INDEXES);
  const insert = db.prepare(INSERT_EVENT);
  const insertBatch = db.transaction((batch: unknown[][]) => {
    for (const row of batch) insert.run(...row);
  });
  const started = performance.now();
  for (let i = 0; i < rows.length; i += batchSize) insertBatch.immediate(rows.slice(i, i + batchSize));
  const ms = performance.now() - started;
  db.close();
  rmSync(dir, { recursive: true, force: true });
  return rate(rows.length, ms);
}

/** Write-side measures; the generated data is local so that it is garbage before the reads. */
async function measureWrites() {
  const envelopes = syntheticEnvelopes({ events: totalEvents, contacts, seed: 42 });
  const valid = toValid(envelopes);

  // 1. Append through the store API (sealing, key lookup/creation, chaining, durable commit):
  //    one publisher awaiting each batch, then several publishing at once (group commit).
  const single = await openBenchLedger();
  const singleRate = await appendAll(single.opened, valid, 1);
  await single.opened.close();
  rmSync(single.dir, { recursive: true, force: true });
  const bench = await openBenchLedger();
  const opened = bench.opened;
  const appendRate = await appendAll(opened, valid, publishers);
  appendRateOfRun = appendRate;

  // Physical limits measured in the same run: raw inserts of the very rows we stored, raw AES-GCM.
  const storedRows: unknown[][] = [];
  for await (const page of readAllPages(opened)) {
    for (const e of page) {
      storedRows.push(insertValues({ ...e, id: `${e.id}-raw` }));
    }
  }
  const rawRate = rawSqliteInserts(storedRows);
  const raw =
    `raw better-sqlite3 inserts of the same rows, same schema, ` +
    `batches of ${batchSize}: ${rawRate.toLocaleString('en')} rows/s`;
  record(
    `append via store API, ${publishers} publishers at once (group commit)`,
    `${appendRate.toLocaleString('en')} events/s`,
    '≥ 30,000 events/s',
    `${raw}; ratio ${(appendRate / rawRate).toFixed(2)}`,
  );
  record(
    'append via store API, 1 publisher awaiting each batch',
    `${singleRate.toLocaleString('en')} events/s`,
    '—',
    `ratio ${(singleRate / rawRate).toFixed(2)} to the raw inserts`,
  );

  const key = { keyId: 'k', scope: 'contact:x', key: randomBytes(32) };
  const sample = {
    firstName: 'Firstname',
    lastName: 'Lastname',
    email: 'someone@example.org',
    address: { street: '12 rue des Tilleuls', town: 'Lyon', postcode: '69001', country: 'FR' },
  };
  const [, sealMs] = await time(() => {
    for (let i = 0; i < 100_000; i++) seal(sample, 'event-id', key);
  });
  const [, hashMs] = await time(() => {
    for (let i = 0; i < 100_000; i++) createHash('sha256').update(JSON.stringify(sample)).digest('hex');
  });
  record(
    'raw AES-256-GCM seal of a registration payload',
    `${rate(100_000, sealMs).toLocaleString('en')} ops/s`,
    'physical limit',
    `sha256 of the same: ${rate(100_000, hashMs).toLocaleString('en')} ops/s`,
  );

  // 2. Publish through the full path (JSON validation included), on a fresh ledger.
  const fresh = await openBenchLedger();
  for (const [code, settings] of Object.entries(DEMO_PURPOSES)) await configurePurpose(fresh.opened, code, settings);
  const publishCount = Math.min(envelopes.length, 50_000);
  const [, publishMs] = await time(async () => {
    for (let i = 0; i < publishCount; i += batchSize)
      await publish(fresh.opened, { events: envelopes.slice(i, i + batchSize) });
  });
  record(
    'publish (validate + seal + chain + fsync), batches of 100',
    `${rate(publishCount, publishMs).toLocaleString('en')} events/s`,
    '—',
    `${publishCount} events`,
  );
  await fresh.opened.close();
  rmSync(fresh.dir, { recursive: true, force: true });
  return bench;
}

/**
 * HTTP load from loadtest, typed here (its own typings predate its promise API). Closed loop
 * (`concurrency` requests in flight, `maxRequests` in all) or open loop (`requestsPerSecond`:
 * each request leaves on schedule whatever became of the ones before). autocannon was dropped: its
 * closed loop left connections idle between requests (490 requests/s of 37 kB bodies against a
 * bare express server that answers 1,300), and its rate limit sends each connection's share of a
 * second in one burst, which measures the queueing of those bursts.
 */
const httpLoad = loadTest as unknown as (options: {
  url: string;
  method: 'POST';
  headers: Record<string, string>;
  contentType: 'application/json';
  /** A body, or one made for each request. */
  body: string | (() => string);
  /** Replaced in the body by a number of its own in each request. */
  indexParam?: string;
  concurrency: number;
  maxRequests?: number;
  requestsPerSecond?: number;
  maxSeconds?: number;
  agentKeepAlive: true;
  quiet: true;
}) => Promise<{
  percentiles: Record<'50' | '90' | '95' | '99', number>;
  rps: number;
  totalRequests: number;
  totalErrors: number;
}>;

/** The store API's append rate of this run (4 publishers): the HTTP publish is measured against it. */
let appendRateOfRun = 0;

const cli = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));

/**
 * The HTTP API as clients reach it: the built server in its own process (keys and roles on, a
 * publisher key from `ledger keys create`), loaded from this process on loopback: batches of 100
 * synthetic events over `publishers` connections (closed loop), cold then warm, then, once the
 * read models have caught up, single-event POSTs of new contacts at 1,000 requests/s (open loop).
 */
async function measureApi() {
  // The load generator runs in this process: the earlier measures' garbage is collected first, so
  // that a collection of this heap (a gigabyte after the full bench) pauses no connection.
  (globalThis as { gc?: () => void }).gc?.();
  const dir = mkdtempSync(join(tmpdir(), 'ledger-bench-api-'));
  const env = { LEDGER_DATA_DIR: dir, LEDGER_MASTER_KEY: randomBytes(32).toString('base64'), LOG_LEVEL: 'warn' };
  const port = 18_000 + Math.floor(Math.random() * 2000);
  const server = spawn(process.execPath, [cli, 'serve'], { env: { ...process.env, ...env, PORT: String(port) } });
  server.stdout.resume();
  server.stderr.resume();
  const url = `http://127.0.0.1:${port}`;
  for (let tries = 0; ; tries++) {
    if (
      await fetch(`${url}/health`).then(
        (r) => r.ok,
        () => false,
      )
    )
      break;
    if (tries > 100) throw new Error('the bench server did not start');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  try {
    const keyOf = (role: string) =>
      (/ (cl_\S+)$/m.exec(runLedger(['keys', 'create', '--role', role, '--name', `bench-${role}`], env)) ?? [])[1];
    const admin = `Bearer ${keyOf('admin')}`;
    for (const [code, settings] of Object.entries(DEMO_PURPOSES)) {
      const configured = await fetch(`${url}/v1/purposes/${code}`, {
        method: 'PUT',
        headers: { authorization: admin, 'content-type': 'application/json' },
        body: JSON.stringify(settings),
      });
      if (!configured.ok) throw new Error(`configuring purpose ${code}: ${configured.status}`);
    }
    const authorization = `Bearer ${keyOf('publisher')}`;
    // A server just started compiles its hot code meanwhile (V8's background threads: about 0.9 s
    // of CPU over the first 50,000 events, beside the load on 2 cores). The batches are measured
    // twice, on other contacts each time: first on the cold server, then warm, as it runs for days.
    const cold = await publishBatches(
      url,
      authorization,
      syntheticEnvelopes({ events: 50_000, contacts: 5000, seed: 9 }),
    );
    const warm = await publishBatches(
      url,
      authorization,
      syntheticEnvelopes({ events: 50_000, contacts: 5000, seed: 10, firstContact: 5000 }),
    );
    record(
      `POST /v1/events over HTTP, batches of ${batchSize}, ${publishers} connections, publisher key, warm server`,
      `${warm.rate.toLocaleString('en')} events/s`,
      '≥ 20,000 events/s and ≥ 0.6 × the store append',
      `store append of this run: ${appendRateOfRun.toLocaleString('en')} events/s, ratio ` +
        `${(warm.rate / appendRateOfRun).toFixed(2)}; errors ${warm.errors}; read models caught up ` +
        `${warm.catchUpMs} ms after the last response; the first 50,000 on the cold server: ` +
        `${cold.rate.toLocaleString('en')} events/s, ratio ${(cold.rate / appendRateOfRun).toFixed(2)}`,
    );
    const single = await httpLoad({
      url: `${url}/v1/events`,
      method: 'POST',
      headers: { authorization },
      contentType: 'application/json',
      body: JSON.stringify({
        type: 'ContactRegistered',
        contactId: 'C-SINGLE_INDEX',
        organizationId: 'ORG-A',
        occurredAt: '2024-01-10T09:00:00Z',
        data: { role: 'individual', firstName: 'Bench', email: 'bench.SINGLE_INDEX@example.org' },
      }),
      indexParam: 'SINGLE_INDEX',
      requestsPerSecond: 1000,
      concurrency: 20,
      maxSeconds: 10,
      agentKeepAlive: true,
      quiet: true,
    });
    record(
      'single-event POST /v1/events at 1,000 requests/s (open loop, loadtest, loopback, 10 s)',
      `p99 ${single.percentiles['99']} ms, ${single.rps.toLocaleString('en')} requests/s`,
      'p99 ≤ 20 ms, 0 errors',
      `median ${single.percentiles['50']} ms, p95 ${single.percentiles['95']} ms; ` +
        `errors ${single.totalErrors} of ${single.totalRequests}`,
    );
  } finally {
    server.kill('SIGTERM');
    await new Promise((resolve) => server.once('exit', resolve));
    rmSync(dir, { recursive: true, force: true });
  }
}
/**
 * Publishes the envelopes in batches over `publishers` connections (closed loop), then waits for
 * the read models to catch up, so that the next load meets a server at rest.
 */
async function publishBatches(url: string, authorization: string, envelopes: unknown[]) {
  const bodies: string[] = [];
  for (let i = 0; i < envelopes.length; i += batchSize) {
    bodies.push(JSON.stringify({ events: envelopes.slice(i, i + batchSize) }));
  }
  let next = 0;
  const [batches, batchMs] = await time(() =>
    httpLoad({
      url: `${url}/v1/events`,
      method: 'POST',
      headers: { authorization },
      contentType: 'application/json',
      body: () => bodies[next++ % bodies.length]!,
      concurrency: publishers,
      maxRequests: bodies.length,
      agentKeepAlive: true,
      quiet: true,
    }),
  );
  const [, catchUpMs] = await time(() => readModelsCaughtUp(url));
  return { rate: rate(envelopes.length, batchMs), errors: batches.totalErrors, catchUpMs: Math.round(catchUpMs) };
}

/** Resolves once the server's read models have folded its whole log (`/health` reports no lag). */
async function readModelsCaughtUp(url: string): Promise<void> {
  for (;;) {
    const health = (await (await fetch(`${url}/health`)).json()) as { projection: { lag: number } };
    if (health.projection.lag === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Runs the built `ledger` command (as users run it) in its own process, so its time and memory are its own. */
function runLedger(args: string[], env: Record<string, string>): string {
  const result = spawnSync(process.execPath, [cli, ...args], {
    env: { ...process.env, ...env, LOG_LEVEL: 'warn' },
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`ledger ${args.join(' ')} failed: ${result.stderr}`);
  return result.stdout.trim();
}

/** Rebuild of a log of `events` events (10 per contact on average), in a process of its own. */
async function measureRebuild(events: number) {
  const { opened, dir, config } = await openBenchLedger();
  // Configured first, as an institution would: sales and clicks then prolong consents in the fold.
  for (const [code, settings] of Object.entries(DEMO_PURPOSES)) await configurePurpose(opened, code, settings);
  const stream = syntheticStream({ events, contacts: Math.ceil(events / 10), seed: 7 });
  const now = new Date();
  const next = () => {
    const batch: unknown[] = [];
    for (let item = stream.next(); !item.done; item = stream.next()) if (batch.push(item.value) === 1000) break;
    return batch;
  };
  const publisher = async () => {
    for (let batch = next(); batch.length > 0; batch = next())
      await appendSealed(opened, validateEnvelopes(batch, { now, newId: uuidv7 }));
  };
  await Promise.all(Array.from({ length: publishers }, publisher));
  await opened.close();
  const env = { LEDGER_DATA_DIR: dir, LEDGER_MASTER_KEY: config.masterKey ?? '' };
  const { rate, rss } = rebuildWithCli(env);
  const readingAlone = await readFoldPagesAlone(join(dir, 'events.db'));
  record(
    `projections rebuild of ${events.toLocaleString('en')} events (built CLI, own process)`,
    `${rate.toLocaleString('en')} events/s`,
    '≥ 150,000 events/s, RSS < 400 MB',
    `peak RSS ${rss} MB; SQLite alone writing the same pages (one thread, no e-mail opened, nothing ` +
      `folded): ${readingAlone.toLocaleString('en')} events/s, ratio ${(rate / readingAlone).toFixed(2)}`,
  );
  // The same with the V8 heap bounded: V8 otherwise lets the old generation grow to a few times the live window.
  const bounded = rebuildWithCli({ ...env, NODE_OPTIONS: '--max-old-space-size=256' });
  record(
    'same rebuild, NODE_OPTIONS=--max-old-space-size=256',
    `${bounded.rate.toLocaleString('en')} events/s`,
    '—',
    `peak RSS ${bounded.rss} MB`,
  );
  rmSync(dir, { recursive: true, force: true });
}

/** Physical part of a rebuild: SQLite reading the log and writing the fold's page text, nothing else. */
async function readFoldPagesAlone(path: string): Promise<number> {
  const db = openEventsDb(path, {}, 1);
  const readPage = foldPageReader(db);
  const started = performance.now();
  let read = 0;
  for await (const page of pagesAfterBy(
    async (after, limit) => readPage(after, limit),
    0,
    BULK_PAGE,
    (page) => page,
  ))
    read += page.count;
  const ms = performance.now() - started;
  db.close();
  return rate(read, ms);
}

/** The rebuild rate and peak RSS that `ledger projections rebuild` reports, run as users run it. */
function rebuildWithCli(env: Record<string, string>): { rate: number; rss: number } {
  const output = runLedger(['projections', 'rebuild'], env);
  const [, rate, rss] = /\((\d+) events\/s, peak RSS (\d+) MB\)/.exec(output) ?? [];
  return { rate: Number(rate), rss: Number(rss) };
}

/**
 * PostgreSQL beside SQLite, in the same run: append of the same events through the store API,
 * against raw inserts of the same rows into a copy of the events table (same batches, one commit
 * each), and the rebuild of the same log by the CLI on each backend.
 */
async function measurePostgres(sqlite: { env: Record<string, string> }) {
  const valid = toValid(syntheticEnvelopes({ events: totalEvents, contacts, seed: 42 }));
  const bench = await openBenchLedger('postgres');
  try {
    const appendRate = await appendAll(bench.opened, valid, publishers);
    const pool = new pg.Pool({ connectionString: benchDatabaseUrl, max: publishers });
    const events = `"${bench.schema}".events`;
    await pool.query(`CREATE TABLE "${bench.schema}".raw_events (LIKE ${events} INCLUDING ALL)`);
    const { rows } = await pool.query(`SELECT * FROM ${events} ORDER BY position`);
    const columns = Object.keys(rows[0]!);
    let next = 0;
    const rawPublisher = async () => {
      for (let i = next; i < rows.length; i = next) {
        next += batchSize;
        const batch = rows.slice(i, i + batchSize);
        await pool.query(
          `INSERT INTO "${bench.schema}".raw_events SELECT * FROM ` +
            `json_populate_recordset(NULL::"${bench.schema}".raw_events, $1)`,
          [JSON.stringify(batch.map((row) => Object.fromEntries(columns.map((c) => [c, row[c]]))))],
        );
      }
    };
    const [, rawMs] = await time(() => Promise.all(Array.from({ length: publishers }, rawPublisher)));
    await pool.end();
    const rawRate = rate(rows.length, rawMs);
    record(
      `PostgreSQL: append via store API, ${publishers} publishers, batches of ${batchSize}`,
      `${appendRate.toLocaleString('en')} events/s`,
      '≥ 10,000 events/s',
      `raw INSERTs of the same rows, ${publishers} connections, one commit per batch: ` +
        `${rawRate.toLocaleString('en')} rows/s; ratio ${(appendRate / rawRate).toFixed(2)}`,
    );
    await bench.opened.close();
    const onPostgres = rebuildWithCli(bench.env);
    const onSqlite = rebuildWithCli(sqlite.env);
    record(
      `PostgreSQL: projections rebuild of the same ${rows.length.toLocaleString('en')} events (built CLI)`,
      `${onPostgres.rate.toLocaleString('en')} events/s`,
      '≥ 50,000 events/s',
      `SQLite, same log, same run: ${onSqlite.rate.toLocaleString('en')} events/s; ratio ` +
        `${(onPostgres.rate / onSqlite.rate).toFixed(2)}; peak RSS ${onPostgres.rss} MB`,
    );
  } finally {
    await bench.dispose();
  }
}

/**
 * Publishes `contacts` contacts through the store API (`publishers` at once, 1,000 contacts an
 * append), each contact's envelopes made only when its slice is published (1M at once would not fit).
 */
async function publishContacts(opened: OpenLedger, contacts: number, envelopesOf: (i: number) => unknown[]) {
  const now = new Date();
  let next = 0;
  const publisher = async () => {
    for (let i = next; i < contacts; i = next) {
      next += 1000;
      const slice = Array.from({ length: Math.min(1000, contacts - i) }, (_, k) => envelopesOf(i + k)).flat();
      await appendSealed(opened, validateEnvelopes(slice, { now, newId: uuidv7 }));
    }
  };
  await Promise.all(Array.from({ length: publishers }, publisher));
  await opened.runner.catchUp();
}

/** 85 % individuals, 5 % each relays, structures and suppliers. */
function randomRole(random: () => number): string {
  const draw = random();
  return draw < 0.15 ? ['structure', 'supplier', 'relay'][Math.floor(draw / 0.05)]! : 'individual';
}

function registration(i: number, registeredAt: string, role: string) {
  return {
    type: 'ContactRegistered',
    contactId: `C-${i}`,
    organizationId: 'ORG-A',
    occurredAt: registeredAt,
    data: {
      role,
      firstName: `First${i}`,
      email: `person${i}@example.org`,
      address: { street: `${i} rue des Tilleuls`, town: 'Lyon', postcode: '69001', country: 'FR' },
    },
  };
}

/**
 * The contacts read model of `contacts` contacts folded from a real log (registrations spread over
 * six years, so about half are older than the cutoff): the recency list's first page, the batch's
 * proposal, and its simulation, each beside what bounds it measured in the same run.
 */
async function measureContactsReadModel(contacts: number) {
  const { opened, dir } = await openBenchLedger();
  const random = mulberry32(3);
  const start = Date.parse('2020-11-01T00:00:00Z');
  await publishContacts(opened, contacts, (i) => [
    registration(i, new Date(start + random() * 6 * 365 * 86_400_000).toISOString(), randomRole(random)),
  ]);
  await measureRecencyPage(opened, contacts);

  // What the batch's proposal reads of the read model (the candidates), beside SQLite alone scanning the same rows.
  const cutoff = '2023-11-01T00:00:00.000Z';
  const [proposed, proposalMs] = await time(async () => {
    let count = 0;
    for await (const page of opened.readModels.inactivityFactsBefore(cutoff)) count += page.length;
    return count;
  });
  const reader = new Database(join(dir, 'state.db'), { readonly: true });
  // The same walk in key order, pages of 10,000 rows as their values: SQLite's part of it alone.
  const page = reader
    .prepare<[string, string], unknown[]>(
      `SELECT ${INACTIVITY_COLUMNS.join(', ')} FROM contacts
       WHERE contact_id > ? AND recency_at < ? AND ${LISTED_CONTACT} ORDER BY contact_id LIMIT 10000`,
    )
    .raw(true);
  const [rows, rawMs] = await time(async () => {
    let count = 0;
    for (let after = '', read = 10_000; read === 10_000;) {
      const values = page.all(after, cutoff);
      read = values.length;
      count += read;
      after = String(values.at(-1)?.[0] ?? '');
    }
    return count;
  });
  reader.close();
  // The floor of a proven simulation: that scan, and one HMAC-SHA256 per proposed row.
  const hmacKey = randomBytes(32);
  const [, hmacMs] = await time(async () => {
    for (let i = 0; i < rows; i++) createHmac('sha256', hmacKey).update(`["C-${i}","individual","active",0]`).digest();
  });
  record(
    `inactive-contact batch, proposal over ${contacts.toLocaleString('en')} contacts (read model, proofs checked)`,
    `${(proposalMs / 1000).toFixed(2)} s`,
    '—',
    `${proposed.toLocaleString('en')} proposed; SQLite alone scanning the same ${rows.toLocaleString('en')} rows ` +
      `${(rawMs / 1000).toFixed(2)} s and an HMAC of each ${(hmacMs / 1000).toFixed(2)} s: ratio ` +
      `${((rawMs + hmacMs) / proposalMs).toFixed(2)}`,
  );

  const asOf = new Date('2026-11-01T00:00:00Z');
  const [simulation, simulationMs] = await time(() => runInactiveBatch(opened, { asOf }));
  const { anonymized, erased } = simulation.report.counts;
  record(
    `inactive-contact batch, simulation over ${contacts.toLocaleString('en')} contacts`,
    `${(simulationMs / 1000).toFixed(2)} s`,
    '1,000,000 in ≤ 3 s',
    `${(anonymized + erased).toLocaleString('en')} would be forgotten, each row's proof checked and its ` +
      `log head looked up; ratio ${((rawMs + hmacMs) / simulationMs).toFixed(2)} to the scan and HMACs alone`,
  );
  await opened.close();
  rmSync(dir, { recursive: true, force: true });
}

/** First page of GET /v1/recency over the contacts read model, through the real HTTP app. */
async function measureRecencyPage(opened: OpenLedger, contacts: number) {
  const app = createApp(opened, createLogger('silent'), { maxBodyBytes: 1024 * 1024, allowedHosts: ['127.0.0.1'] });
  const { token } = await issueApiKey(opened, { role: 'batch', name: 'bench' });
  const server = await new Promise<Server>((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/recency?before=2023-11-01&limit=100`;
  const samples: number[] = [];
  for (let i = 0; i < 50; i++) {
    const [response, ms] = await time(() =>
      fetch(url, { headers: { authorization: `Bearer ${token}` } }).then(
        (r) => r.json() as Promise<{ items: unknown[] }>,
      ),
    );
    if (response.items.length !== 100) throw new Error('recency page is not full');
    samples.push(ms);
  }
  await new Promise((resolve) => server.close(resolve));
  const sorted = [...samples].sort((a, b) => a - b);
  record(
    `first page of GET /v1/recency over ${contacts.toLocaleString('en')} contacts`,
    `median ${sorted[25]!.toFixed(2)} ms, p95 ${sorted[47]!.toFixed(2)} ms`,
    '≤ 50 ms',
    `first request ${samples[0]!.toFixed(2)} ms`,
  );
}

/** GET `path` from a loopback address of the caller's choice: each address has its own budget of requests. */
function getFrom(url: string, localAddress: string): Promise<number> {
  return new Promise((resolve, reject) => {
    httpGet(url, { localAddress, agent: false }, (response) => {
      response.resume().on('end', () => resolve(response.statusCode ?? 0));
    }).on('error', reject);
  });
}

/**
 * The privacy center's pages of a contact with 200 events (issue 26), as people load them: one
 * request at a time over loopback, through the real app (rate limits included: the requests are
 * spread over links and source addresses, as many people's would be). Beside it, the personal view
 * of the same contact (the stream read, 200 seals opened, the fold) alone, in the same run.
 */
async function measurePrivacyPage() {
  const dir = mkdtempSync(join(tmpdir(), 'ledger-bench-privacy-'));
  const config = readConfig({ LEDGER_DATA_DIR: dir, LEDGER_MASTER_KEY: randomBytes(32).toString('base64') });
  const opened = await openLedger(config, createLogger('silent'));
  for (const [code, settings] of Object.entries(DEMO_PURPOSES)) await configurePurpose(opened, code, settings);
  const heavy = 'C-BENCH-PAGE';
  await appendSealed(opened, toValid(contactEvents(heavy, 200)));
  await opened.runner.catchUp();
  const app = createApp(opened, createLogger('silent'), { maxBodyBytes: 1024 * 1024, allowedHosts: ['127.0.0.1'] });
  const server = await new Promise<Server>((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const requests = 300;
  let round = 0;
  const percentiles = async (page: string) => {
    // Within each link's budget (20 a minute) and each address's (120): every round has its own
    // links, 15 requests each, and its own four source addresses, 75 requests each.
    round += 1;
    const tokens = await Promise.all(
      Array.from({ length: requests / 15 }, async () => (await issueConsentLink(opened, heavy)).token),
    );
    const samples: number[] = [];
    for (let i = 0; i < requests; i++) {
      const url = `${origin}/privacy/${tokens[i % tokens.length]}${page}`;
      const [status, ms] = await time(() => getFrom(url, `127.0.${round}.${2 + (i % 4)}`));
      if (status !== 200) throw new Error(`privacy page ${page || '/'}: ${status}`);
      samples.push(ms);
    }
    const sorted = samples.sort((a, b) => a - b);
    return { median: sorted[requests / 2]!, p95: sorted[Math.floor(requests * 0.95)]! };
  };
  try {
    const view = [];
    for (let i = 0; i < 200; i++) view.push((await time(() => contactView(opened, heavy)))[1]);
    view.sort((a, b) => a - b);
    await percentiles(''); // warm-up: the first requests compile the pages' code
    const overview = await percentiles('');
    const print = await percentiles('/print');
    record(
      'privacy center: the page of a contact with 200 events (GET /privacy/:token, loopback, one at a time)',
      `median ${overview.median.toFixed(2)} ms, p95 ${overview.p95.toFixed(2)} ms`,
      'p95 ≤ 50 ms',
      `the view alone (200 seals opened and folded) p95 ${view[190]!.toFixed(2)} ms: ratio ` +
        `${(view[190]! / overview.p95).toFixed(2)}; the printable page (everything) p95 ${print.p95.toFixed(2)} ms`,
    );
  } finally {
    await new Promise((resolve) => server.close(resolve));
    await opened.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Applying the inactive-contact batch to `contacts` inactive contacts (registered in 2019, half of
 * them customers with a sale of 2020): the forgetting events, the key destruction and the read
 * models brought up to the log, beside the store appending as many events in batches of 100.
 */
async function measureBatchApply(contacts: number) {
  const { opened, dir } = await openBenchLedger();
  await publishContacts(opened, contacts, (i) => {
    const registered = registration(i, '2019-03-01T10:00:00Z', 'individual');
    const sale = {
      type: 'TicketSold',
      contactId: `C-${i}`,
      organizationId: 'ORG-A',
      occurredAt: '2020-02-01T10:00:00Z',
      data: {
        orderId: `O-${i}`,
        product: { kind: 'dated', validUntil: '2020-06-01T20:00:00Z' },
        ipAddress: '198.51.100.7',
      },
    };
    return i % 2 === 0 ? [registered, sale] : [registered];
  });

  // Half the contacts have an order to purge: those are decided from their streams, as a run does.
  const asOf = new Date('2026-11-01T00:00:00Z');
  const [simulation, simulationMs] = await time(() => runInactiveBatch(opened, { asOf }));
  const simulatedCount = simulation.report.counts.anonymized + simulation.report.counts.erased;
  if (simulatedCount !== contacts) throw new Error(`the simulation found ${simulatedCount} of ${contacts}`);
  record(
    `inactive-contact batch, simulation over ${contacts.toLocaleString('en')} contacts, half with an order to purge`,
    `${(simulationMs / 1000).toFixed(1)} s`,
    '—',
    `the contacts with orders decided from their streams: ${rate(contacts / 2, simulationMs).toLocaleString('en')} ` +
      'contacts/s',
  );

  const [outcome, ms] = await time(async () => {
    // As the CLI runs it: the keys of each group are destroyed while the next one is decided.
    const [{ report, keysDestroyed }, decideMs] = await time(() =>
      runInactiveBatch(opened, {
        simulationId: simulation.report.simulationId,
        apply: true,
        shred: (events) => opened.shredder.shredAll(events),
      }),
    );
    const [, catchUpMs] = await time(() => opened.runner.catchUp());
    return { report, keysDestroyed, decideMs, catchUpMs };
  });
  const forgottenCount = outcome.report.counts.anonymized + outcome.report.counts.erased;
  if (forgottenCount !== contacts) throw new Error(`the batch forgot ${forgottenCount} of ${contacts}`);
  await opened.close();
  rmSync(dir, { recursive: true, force: true });
  record(
    `inactive-contact batch, applied to ${contacts.toLocaleString('en')} contacts`,
    `${rate(contacts, ms).toLocaleString('en')} contacts/s`,
    '≥ 5,000 contacts/s',
    `${(ms / 1000).toFixed(1)} s: ${outcome.report.counts.anonymized} anonymized, ${outcome.report.counts.erased} ` +
      `erased, ${outcome.report.counts.orderDataPurged} orders purged ` +
      `(deciding from the log, appending and destroying ${outcome.keysDestroyed} keys ` +
      `${(outcome.decideMs / 1000).toFixed(1)} s), read models caught up ` +
      `(${(outcome.catchUpMs / 1000).toFixed(1)} s); ` +
      `store append of this run ${appendRateOfRun.toLocaleString('en')} events/s`,
  );
}

/** The bench institution's five purposes: four expire after two years, one is the customers' legal basis. */
const BENCH_PURPOSES: Record<string, PurposeSettings> = {
  newsletter: { kind: 'consent', channel: 'email', expiryDays: 730, prolongedBy: ['MarketingLinkClicked'] },
  'sms-offers': { kind: 'consent', channel: 'sms', expiryDays: 730 },
  'post-mail': { kind: 'consent', channel: 'post', expiryDays: 730 },
  partners: { kind: 'consent', channel: 'all', expiryDays: 730 },
  order: { kind: 'legalBasis', channel: 'all' },
};

/**
 * Targeting and the consent-expiry job over a read model of `contacts` contacts, each answering
 * each of the five purposes with probability 1/5 (about one consent row per contact): written
 * straight into state.db, as the contacts read model above. Last activities spread over the
 * past 27 months, so that about a tenth of the "yes" are past their two years; the job appends a
 * ConsentExpired to each of their streams.
 */
async function measureConsents(contacts: number) {
  const { opened, dir } = await openBenchLedger();
  const realNow = opened.now;
  opened.now = () => new Date('2019-01-01T00:00:00Z'); // expiry enabled long ago
  for (const [code, settings] of Object.entries(BENCH_PURPOSES)) await configurePurpose(opened, code, settings);
  opened.now = realNow;
  await opened.runner.catchUp();
  const state = new Database(join(dir, 'state.db'));
  const contactColumns = columnsOf(CONTACTS);
  const insertContact = state.prepare(
    `INSERT INTO contacts (${contactColumns.join(', ')}) VALUES (${contactColumns.map((c) => `@${c}`).join(', ')})`,
  );
  const insertConsent = state.prepare(
    'INSERT INTO consents (contact_id, purpose, status, changed_at, last_activity_at) VALUES (?, ?, ?, ?, ?)',
  );
  const random = mulberry32(5);
  const asOf = new Date('2026-11-01T00:00:00Z');
  const window = 27 * 30 * 86_400_000;
  let consentRows = 0;
  // Targeting and the expiry job read no proof: these rows' are made with a key of no ledger.
  const unprovenRows = new RowProofs(MasterKey.generate());
  state.transaction(() => {
    for (let i = 0; i < contacts; i++) {
      const contactId = `C-${String(i).padStart(7, '0')}`;
      const answers: ConsentState = {};
      for (const purpose of Object.keys(BENCH_PURPOSES)) {
        if (random() >= 0.2) continue;
        const at = new Date(asOf.getTime() - random() * window).toISOString();
        answers[purpose] = { status: random() < 0.8 ? 'yes' : 'no', changedAt: at, lastActivityAt: at };
        insertConsent.run(contactId, purpose, answers[purpose].status, at, at);
        consentRows++;
      }
      insertContact.run({
        ...contactRow(newContactRecord(contactId), unprovenRows),
        role: 'individual',
        status: random() < 0.01 ? 'anonymized' : 'active',
        restricted: random() < 0.005 ? 1 : 0,
        registered_at: '2019-06-01T00:00:00.000Z',
        registered_event: `r-${i}`,
        recency_at: '2024-01-01T00:00:00.000Z',
        recency_event: `e-${i}`,
        consent_answers: consentAnswers(answers),
      });
    }
  })();
  state.pragma('wal_checkpoint(TRUNCATE)');

  // The physical limit: SQLite stepping through the same rows, nothing built in JavaScript.
  const [, rawMs] = await time(() =>
    state.prepare("SELECT count(*) FROM contacts WHERE registered_event IS NOT NULL AND consent_answers <> ''").get(),
  );
  state.close();
  const campaign = { campaignType: 'marketing', channel: 'email' } as const;
  await targetCampaign(opened, campaign); // warm: statements prepared, pages cached
  const samples: number[] = [];
  let answer: Awaited<ReturnType<typeof targetCampaign>> | null = null;
  for (let i = 0; i < 5; i++) {
    const [result, ms] = await time(() => targetCampaign(opened, campaign));
    samples.push(ms);
    answer = result;
  }
  samples.sort((a, b) => a - b);
  record(
    `targeting over ${contacts.toLocaleString('en')} contacts and 5 purposes (strict e-mail marketing)`,
    `median ${(samples[2]! / 1000).toFixed(2)} s`,
    '≤ 2 s',
    `${consentRows.toLocaleString('en')} consent rows; ${answer!.eligible.length.toLocaleString('en')} eligible, ` +
      `${answer!.withoutAnswer.toLocaleString('en')} without any answer; SQLite alone counting the same ` +
      `rows: ${(rawMs / 1000).toFixed(2)} s, ratio ${(rawMs / samples[2]!).toFixed(2)}`,
  );

  const [report, expiryMs] = await time(() => expireConsents(opened, { asOf }));
  record(
    `consent-expiry job over ${consentRows.toLocaleString('en')} consents`,
    `${(expiryMs / 1000).toFixed(2)} s`,
    '≤ 10 s',
    `${report.expired.toLocaleString('en')} "yes" expired (a ConsentExpired each, ` +
      `${rate(report.expired, expiryMs).toLocaleString('en')} events/s); ` +
      `store append of this run ${appendRateOfRun.toLocaleString('en')} events/s`,
  );
  await opened.close();
  rmSync(dir, { recursive: true, force: true });
}

/** `ledger demo --contacts N` end to end, in a process of its own. */
function measureDemo(contacts: number) {
  const dir = mkdtempSync(join(tmpdir(), 'ledger-demo-'));
  const started = performance.now();
  const output = runLedger(['demo', '--contacts', String(contacts)], {
    LEDGER_DATA_DIR: dir,
    LEDGER_MASTER_KEY: randomBytes(32).toString('base64'),
  });
  record(
    `ledger demo --contacts ${contacts.toLocaleString('en')}`,
    `${((performance.now() - started) / 1000).toFixed(1)} s`,
    '≤ 60 s',
    output.replace(/^demo: /, ''),
  );
  rmSync(dir, { recursive: true, force: true });
}

/**
 * Delivery to subscribers (issue 27): `events` restrictions (a subscribed type) of `contacts`
 * contacts, interleaved as upstream traffic is, delivered from the log to a JetStream subject,
 * then to a webhook receiver in this process (node:http, verifying each signature), 8 in flight;
 * each beside the bare rate of the same messages sent the same way without the ledger (JetStream
 * publishes, signed POSTs, 8 at once). Then a forgetting's way to the webhook while 1,000 events/s
 * are appended: from before its append to its arrival.
 */
async function measureDelivery(events: number, contacts: number) {
  const { opened, dispose } = await openBenchLedger();
  const natsStream = `LEDGER_BENCH_${randomBytes(4).toString('hex')}`;
  const nc = await connectNats({ servers: DEFAULT_NATS_URL });
  const jsm = await nc.jetstreamManager();
  try {
    const restrictions = (from: number, count: number) =>
      Array.from({ length: count }, (_, i) => ({
        type: (from + i) % (2 * contacts) < contacts ? 'ProcessingRestricted' : 'RestrictionLifted',
        contactId: `C-DELIVERY-${(from + i) % contacts}`,
        organizationId: 'ORG-BENCH',
        occurredAt: new Date(Date.UTC(2025, 0, 1) + from + i).toISOString(),
        data: { reason: 'objection' },
      }));
    await appendAll(opened, toValid(restrictions(0, events)), publishers);
    const messages: string[] = [];
    for await (const page of readAllPages(opened)) {
      for (const event of page) messages.push(JSON.stringify(deliveryMessage({ eventTypes: [event.type] }, event)));
    }
    const head = await opened.store.headPosition();
    /** Delivers with a runner of its own until the subscriber's checkpoint is at the head; events/s. */
    const deliverAll = async (name: string, settings: SubscriberSettings) => {
      await configureSubscriber(opened, name, settings);
      const { since } = (await readSubscribers(opened.store)).get(name)!;
      const [, ms] = await time(async () => {
        const runner = new DeliveryRunner(opened, { natsStream, pollMs: 50 }).start();
        while ((await opened.readModels.delivery.deliveryCheckpoint(since)) < head) await sleep(10);
        await runner.stop();
      });
      await removeSubscriber(opened, name);
      return rate(events, ms);
    };
    /** `send` over every message, `inFlight` at once; messages/s. */
    const eachAtOnce = async (inFlight: number, send: (body: string, i: number) => Promise<unknown>) => {
      let next = 0;
      const worker = async () => {
        for (let i = next++; i < messages.length; i = next++) await send(messages[i]!, i);
      };
      const [, ms] = await time(() => Promise.all(Array.from({ length: inFlight }, worker)));
      return rate(messages.length, ms);
    };

    // JetStream: the bare publishes (msgID of their own, not de-duplicated against the delivery's).
    await jsm.streams.add({ name: natsStream, subjects: ['bench.raw', 'bench.delivery'] });
    const js = nc.jetstream();
    const encoder = new TextEncoder();
    const publishRaw = (round: number) => (body: string, i: number) =>
      js.publish('bench.raw', encoder.encode(body), { msgID: `raw-${round}-${i}` });
    // The bare rate before and after, the better taken (the first with a cold JIT; the machine is shared).
    const rawBefore = await eachAtOnce(DEFAULT_NATS_IN_FLIGHT, publishRaw(1));
    const nats = await deliverAll('bench-nats', { kind: 'nats', subject: 'bench.delivery' });
    const rawNats = Math.max(rawBefore, await eachAtOnce(DEFAULT_NATS_IN_FLIGHT, publishRaw(2)));
    record(
      `delivery to NATS JetStream, ${events.toLocaleString('en')} events of ${contacts.toLocaleString('en')} contacts`,
      `${nats.toLocaleString('en')} events/s`,
      '≥ 10,000 events/s',
      `bare JetStream publishes of the same messages, ${DEFAULT_NATS_IN_FLIGHT} acks awaited at once: ` +
        `${rawNats.toLocaleString('en')}/s, ratio **${(nats / rawNats).toFixed(2)}**`,
    );

    // Webhook: a receiver verifying every signature, as a receiver must.
    /** The secrets the receiver holds: the bare POSTs', then each subscriber's. */
    const secrets = [webhookSecretFrom(randomBytes(32), 'raw')];
    let refused = 0;
    const arrivals = new Map<string, number>();
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const headers = req.headers as Record<string, string>;
        if (!secrets.some((secret) => verifyWebhook(secret, headers, body, new Date()))) {
          refused++;
          return res.writeHead(401).end();
        }
        arrivals.set(req.headers['webhook-id'] as string, performance.now());
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
    try {
      // The ledger's own POST (node:http, keep-alive), with no log, window nor checkpoint around it.
      const sendOptions = { timeoutMs: 10_000, signal: new AbortController().signal, now: () => new Date() };
      const postRaw = async (body: string, i: number) => {
        const attempt = await postWebhook(url, [secrets[0]!], { ...JSON.parse(body), id: `raw-${i}` }, sendOptions);
        if (!attempt.ok) throw new Error(`the bench receiver refused a bare POST: ${attempt.error}`);
      };
      const rawBefore = await eachAtOnce(8, postRaw);
      const hook = { kind: 'webhook', url } as const;
      const { secret } = await configureSubscriber(opened, 'bench-webhook', hook);
      secrets.push(secret!);
      const webhook = await deliverAll('bench-webhook', hook);
      const rawPosts = Math.max(rawBefore, await eachAtOnce(8, postRaw));
      record(
        `delivery to a webhook (signed; the receiver verifies), ${events.toLocaleString('en')} events, 8 in flight`,
        `${webhook.toLocaleString('en')} events/s`,
        '≥ 2,000 events/s',
        `bare signed POSTs of the same messages (the same node:http sender), 8 at once: ` +
          `${rawPosts.toLocaleString('en')}/s, ` +
          `ratio **${(webhook / rawPosts).toFixed(2)}**; ${refused} refused`,
      );
      await measureForgettingLatency(opened, hook, (configured) => secrets.push(configured), arrivals);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  } finally {
    await jsm.streams.delete(natsStream).catch(() => undefined);
    await nc.close();
    await opened.close();
    await dispose();
  }
}

/**
 * A forgetting's latency to a webhook under load: 1,000 restrictions/s appended (open loop, 10
 * every 10 ms, delivered too), and a contact forgotten every 50 ms (`forgetContact`, as an erasure
 * request's execution), timed from before its append to its arrival at the receiver.
 */
async function measureForgettingLatency(
  opened: OpenLedger,
  hook: SubscriberSettings,
  useSecret: (secret: string) => unknown,
  arrivals: Map<string, number>,
) {
  const seconds = 20;
  const forgettings = (seconds * 1000) / 50;
  const people = Array.from({ length: forgettings }, (_, i) => `C-FORGET-${i}`);
  await appendAll(opened, toValid(people.flatMap((id) => contactEvents(id, 1))), publishers);
  // The default types: every restriction is delivered too, 1,000 events/s beside the forgettings.
  const { secret } = await configureSubscriber(opened, 'bench-latency', hook);
  useSecret(secret!);
  const { since } = (await readSubscribers(opened.store)).get('bench-latency')!;
  const head = await opened.store.headPosition();
  const runner = new DeliveryRunner(opened, { pollMs: 1000 }).start();
  while ((await opened.readModels.delivery.deliveryCheckpoint(since)) < head) await sleep(10);
  const sent = new Map<string, number>();
  const started = performance.now();
  let tick = 0;
  const load = async () => {
    for (; tick < seconds * 100; tick++) {
      const due = started + tick * 10;
      if (due > performance.now()) await sleep(due - performance.now());
      const envelopes = Array.from({ length: 10 }, (_, i) => ({
        type: (tick + i) % 2 === 0 ? 'ProcessingRestricted' : 'RestrictionLifted',
        contactId: `C-LOAD-${(tick * 10 + i) % 5000}`,
        organizationId: 'ORG-BENCH',
        occurredAt: new Date().toISOString(),
        data: { reason: 'objection' },
      }));
      await appendSealed(opened, toValid(envelopes));
    }
  };
  const forget = async () => {
    for (let i = 0; i < forgettings; i++) {
      const due = started + i * 50 + 25;
      if (due > performance.now()) await sleep(due - performance.now());
      const before = performance.now();
      const { forgettingEvent } = await forgetContact(opened, people[i]!, { reason: 'request', requestId: uuidv7() });
      sent.set(forgettingEvent.id, before);
    }
  };
  await Promise.all([load(), forget()]);
  const loadRate = rate(tick * 10, performance.now() - started);
  const deadline = performance.now() + 30_000;
  while ([...sent.keys()].some((id) => !arrivals.has(id)) && performance.now() < deadline) await sleep(20);
  await runner.stop();
  const latencies = [...sent].map(([id, before]) => (arrivals.get(id) ?? Infinity) - before).sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!;
  record(
    `a forgetting to a webhook while ${loadRate.toLocaleString('en')} events/s are appended (delivered too)`,
    `p99 ${at(0.99).toFixed(0)} ms`,
    'p99 ≤ 1 s',
    `${latencies.length} forgettings: median ${at(0.5).toFixed(0)} ms, max ${at(1).toFixed(0)} ms`,
  );
}

async function main() {
  const build = spawnSync('npm', ['run', '-s', 'build'], { encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`build failed: ${build.stderr}`);
  console.error(
    `contact-ledger bench: ${totalEvents} events over ${contacts} contacts, ` +
      `batches of ${batchSize}; ${cpus().length} cores, node ${process.version}`,
  );
  console.error('durability: SQLite WAL, synchronous=FULL (every acknowledged batch is fsynced)');
  if (values.only === 'delivery') {
    await measureDelivery(Number(values['delivery-events']), contacts);
    return printResults();
  }
  const bench = await measureWrites();
  if (values.only === 'append' || values.only === 'postgres') {
    await bench.opened.close();
    if (values.only === 'postgres') await measurePostgres(bench);
    rmSync(bench.dir, { recursive: true, force: true });
    return printResults();
  }
  if (values.only === 'rebuild') {
    await bench.opened.close();
    rmSync(bench.dir, { recursive: true, force: true });
    await measureRebuild(Number(values['rebuild-events']));
    return printResults();
  }
  if (values.only === 'privacy') {
    await bench.opened.close();
    rmSync(bench.dir, { recursive: true, force: true });
    await measurePrivacyPage();
    return printResults();
  }
  if (values.only === 'api' || values.only === 'batch' || values.only === 'consents') {
    await bench.opened.close();
    rmSync(bench.dir, { recursive: true, force: true });
    if (values.only === 'api') await measureApi();
    else if (values.only === 'consents') await measureConsents(Number(values['consent-contacts']));
    else {
      await measureContactsReadModel(Number(values['recency-contacts']));
      await measureBatchApply(Number(values['batch-contacts']));
    }
    return printResults();
  }
  let opened: OpenLedger = bench.opened;
  // The write phase's data is garbage now: collect it so reads are not measured against its heap.
  (globalThis as { gc?: () => void }).gc?.();

  // 3. readAll, twice: the first pass includes JIT warm-up and cold pages, the second is steady state.
  const readPass = () =>
    time(async () => {
      let count = 0;
      for await (const page of readAllPages(opened)) count += page.length;
      return count;
    });
  const [readCount, firstReadMs] = await readPass();
  const [, readMs] = await readPass();
  record(
    'readAll (pages of 5,000, parsed records)',
    `${rate(readCount, readMs).toLocaleString('en')} events/s`,
    '≥ 200,000 events/s',
    `${readCount} events; first pass (cold JIT and pages) ` +
      `${rate(readCount, firstReadMs).toLocaleString('en')} events/s`,
  );

  // 4. Personal view of a contact with 200 events (fold + open every seal).
  const heavy = 'C-BENCH-HEAVY';
  const heavyEvents = toValid(contactEvents(heavy, 200));
  await appendSealed(opened, heavyEvents);
  // Cold: a restarted process, no key in the cache; then warm, as an operator browsing contacts.
  await opened.close();
  opened = await openLedger(bench.config, createLogger('silent'));
  const [, coldMs] = await time(() => contactView(opened, heavy));
  const samples: number[] = [];
  for (let i = 0; i < 200; i++) {
    const [, ms] = await time(() => contactView(opened, heavy));
    samples.push(ms);
  }
  samples.sort((a, b) => a - b);
  record(
    'open the view of a contact with 200 events (fold + 200 seals)',
    `median ${samples[100]!.toFixed(2)} ms, p95 ${samples[190]!.toFixed(2)} ms`,
    '≤ 5 ms',
    `cold (restarted process, keys not cached): ${coldMs.toFixed(2)} ms`,
  );

  await opened.close();
  await measurePostgres(bench);
  rmSync(bench.dir, { recursive: true, force: true });

  await measureRebuild(Number(values['rebuild-events']));
  await measureContactsReadModel(Number(values['recency-contacts']));
  await measureBatchApply(Number(values['batch-contacts']));
  await measureConsents(Number(values['consent-contacts']));
  measureDemo(Number(values['demo-contacts']));
  await measurePrivacyPage();
  await measureApi();
  await measureDelivery(Number(values['delivery-events']), contacts);
  printResults();
}

function printResults() {
  const rss = process.resourceUsage().maxRSS / 1024; // peak of the whole run, write data included
  console.log(`\n| measure | result | target | beside it |\n| --- | --- | --- | --- |`);
  for (const r of results) console.log(`| ${r.measure} | ${r.value} | ${r.target} | ${r.note} |`);
  console.log(
    `\npeak RSS ${rss.toFixed(0)} MB; ${new Date().toISOString().slice(0, 10)}; ` +
      `${cpus().length} cores; ${cpus()[0]?.model ?? ''}`,
  );
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
