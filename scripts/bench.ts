/**
 * `npm run bench`: the issue targets, measured on realistic data with the production durability
 * setting (WAL, synchronous=FULL), each beside the physical limit measured in the same run.
 * Usage: npm run bench [-- --events 200000 --contacts 10000]
 */
import { randomBytes, createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { v7 as uuidv7 } from 'uuid';
import { readConfig } from '../src/config.js';
import { createLogger } from '../src/log.js';
import { openLedger, type OpenLedger } from '../src/app/open-ledger.js';
import { validateEnvelopes, type ValidEvent } from '../src/domain/envelope.js';
import { seal } from '../src/crypto/seal.js';
import { INSERT_EVENT, openEventsDb, sealedColumns } from '../src/store/sqlite-event-store.js';
import { FORGETTING_TYPES } from '../src/domain/catalog.js';
import { syntheticEnvelopes, contactEvents } from '../src/demo/synthetic.js';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '200000' },
    contacts: { type: 'string', default: '10000' },
    batch: { type: 'string', default: '100' },
    publishers: { type: 'string', default: '4' },
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

async function openBenchLedger() {
  const dir = mkdtempSync(join(tmpdir(), 'ledger-bench-'));
  const config = readConfig({ LEDGER_DATA_DIR: dir, LEDGER_MASTER_KEY: randomBytes(32).toString('base64') });
  return { opened: await openLedger(config, createLogger('silent')), dir, config };
}

/** Appends every event in batches, from `publishers` concurrent publishers taking batches in turn. */
async function appendAll(opened: OpenLedger, events: ValidEvent[], publishers: number): Promise<number> {
  let next = 0;
  const publisher = async () => {
    for (let i = next; i < events.length; i = next) {
      next += batchSize;
      await opened.ledger.append(events.slice(i, i + batchSize));
    }
  };
  const [, ms] = await time(() => Promise.all(Array.from({ length: publishers }, publisher)));
  return rate(events.length, ms);
}

function toValid(envelopes: unknown[]): ValidEvent[] {
  const now = new Date();
  const valid: ValidEvent[] = [];
  for (let i = 0; i < envelopes.length; i += 1000) valid.push(...validateEnvelopes(envelopes.slice(i, i + 1000), { now, newId: uuidv7 }));
  return valid;
}

/** Physical limit: the same stored rows inserted raw into the same schema and pragmas, same batch size. */
function rawSqliteInserts(rows: unknown[][]): number {
  const dir = mkdtempSync(join(tmpdir(), 'ledger-raw-'));
  const db = openEventsDb(join(dir, 'raw.db'), FORGETTING_TYPES);
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

  // Physical limits measured in the same run: raw inserts of the very rows we stored, raw AES-GCM.
  const storedRows: unknown[][] = [];
  for (let after = 0; ;) {
    const page = await opened.ledger.store.readAll({ after, limit: 5000 });
    if (page.length === 0) break;
    for (const e of page) {
      storedRows.push([`${e.id}-raw`, e.stream, e.revision, e.type, e.occurredAt, e.recordedAt, e.organizationId,
        JSON.stringify(e.data), e.prevHash, e.hash, ...sealedColumns(e.sealed)]);
    }
    after = page.at(-1)!.position;
  }
  const rawRate = rawSqliteInserts(storedRows);
  const raw = `raw better-sqlite3 inserts of the same rows, same schema, batches of ${batchSize}: ${rawRate.toLocaleString('en')} rows/s`;
  record(`append via store API, ${publishers} publishers at once (group commit)`, `${appendRate.toLocaleString('en')} events/s`, '≥ 30,000 events/s',
    `${raw}; ratio ${(appendRate / rawRate).toFixed(2)}`);
  record('append via store API, 1 publisher awaiting each batch', `${singleRate.toLocaleString('en')} events/s`, '—',
    `ratio ${(singleRate / rawRate).toFixed(2)} to the raw inserts`);

  const key = { keyId: 'k', scope: 'contact:x', key: randomBytes(32) };
  const sample = { firstName: 'Firstname', lastName: 'Lastname', email: 'someone@example.org', address: { street: '12 rue des Tilleuls', town: 'Lyon', postcode: '69001', country: 'FR' } };
  const [, sealMs] = await time(() => {
    for (let i = 0; i < 100_000; i++) seal(sample, 'event-id', key);
  });
  const [, hashMs] = await time(() => {
    for (let i = 0; i < 100_000; i++) createHash('sha256').update(JSON.stringify(sample)).digest('hex');
  });
  record('raw AES-256-GCM seal of a registration payload', `${rate(100_000, sealMs).toLocaleString('en')} ops/s`, 'physical limit',
    `sha256 of the same: ${rate(100_000, hashMs).toLocaleString('en')} ops/s`);

  // 2. Publish through the full path (JSON validation included), on a fresh ledger.
  const fresh = await openBenchLedger();
  const publishCount = Math.min(envelopes.length, 50_000);
  const [, publishMs] = await time(async () => {
    for (let i = 0; i < publishCount; i += batchSize) await fresh.opened.ledger.publish({ events: envelopes.slice(i, i + batchSize) });
  });
  record('publish (validate + seal + chain + fsync), batches of 100', `${rate(publishCount, publishMs).toLocaleString('en')} events/s`, '—', `${publishCount} events`);
  await fresh.opened.close();
  rmSync(fresh.dir, { recursive: true, force: true });
  return bench;
}

async function main() {
  console.error(`contact-ledger bench: ${totalEvents} events over ${contacts} contacts, batches of ${batchSize}; ${cpus().length} cores, node ${process.version}`);
  console.error('durability: SQLite WAL, synchronous=FULL (every acknowledged batch is fsynced)');
  const bench = await measureWrites();
  let opened: OpenLedger = bench.opened;
  // The write phase's data is garbage now: collect it so reads are not measured against its heap.
  (globalThis as { gc?: () => void }).gc?.();

  // 3. readAll, twice: the first pass includes JIT warm-up and cold pages, the second is steady state.
  const readPass = () => time(async () => {
    let count = 0;
    for (let after = 0; ;) {
      const page = await opened.ledger.store.readAll({ after, limit: 5000 });
      if (page.length === 0) return count;
      count += page.length;
      after = page.at(-1)!.position;
    }
  });
  const [readCount, firstReadMs] = await readPass();
  const [, readMs] = await readPass();
  record('readAll (pages of 5,000, parsed records)', `${rate(readCount, readMs).toLocaleString('en')} events/s`, '≥ 200,000 events/s',
    `${readCount} events; first pass (cold JIT and pages) ${rate(readCount, firstReadMs).toLocaleString('en')} events/s`);

  // 4. Personal view of a contact with 200 events (fold + open every seal).
  const heavy = 'C-BENCH-HEAVY';
  const heavyEvents = toValid(contactEvents(heavy, 200));
  await opened.ledger.append(heavyEvents);
  // Cold: a restarted process, no key in the cache; then warm, as an operator browsing contacts.
  await opened.close();
  opened = await openLedger(bench.config, createLogger('silent'));
  const [, coldMs] = await time(() => opened.ledger.contactView(heavy));
  const samples: number[] = [];
  for (let i = 0; i < 200; i++) {
    const [, ms] = await time(() => opened.ledger.contactView(heavy));
    samples.push(ms);
  }
  samples.sort((a, b) => a - b);
  record('open the view of a contact with 200 events (fold + 200 seals)', `median ${samples[100]!.toFixed(2)} ms, p95 ${samples[190]!.toFixed(2)} ms`, '≤ 5 ms',
    `cold (restarted process, keys not cached): ${coldMs.toFixed(2)} ms`);

  await opened.close();
  rmSync(bench.dir, { recursive: true, force: true });
  const rss = process.resourceUsage().maxRSS / 1024; // peak of the whole run, write data included
  console.log(`\n| measure | result | target | beside it |\n| --- | --- | --- | --- |`);
  for (const r of results) console.log(`| ${r.measure} | ${r.value} | ${r.target} | ${r.note} |`);
  console.log(`\npeak RSS ${rss.toFixed(0)} MB; ${new Date().toISOString().slice(0, 10)}; ${cpus().length} cores; ${cpus()[0]?.model ?? ''}`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
