import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { openTestLedger, type TestLedger } from '../support/ledger.js';
import { configureTestPurposes, consentGiven, person, personalValues, registered } from '../support/events.js';
import { dropSchemas, TEST_DATABASE_URL, testSchemaName } from '../support/postgres.js';
import { readConfig } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { openLedger, type OpenLedger } from '../../src/app/open-ledger.js';
import { publish } from '../../src/app/publish.js';
import { configureSchedule, listSchedules } from '../../src/app/schedules.js';
import { ScheduleRunner, type ScheduleRunnerOptions } from '../../src/jobs/schedules.js';
import { SCHEDULES_STREAM, type ScheduleJob } from '../../src/domain/schedules.js';
import { RuleViolation } from '../../src/domain/errors.js';
import { batchStream } from '../../src/domain/inactive-contacts.js';
import type { StoredEvent } from '../../src/store/event-store.js';

const EVERY_SECOND = '* * * * * *';

const until = async (what: string, condition: () => Promise<boolean>, ms = 15_000) => {
  for (const started = Date.now(); !(await condition());) {
    if (Date.now() - started > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
};
const runsOf = async (ledger: OpenLedger, type = 'ScheduledRunCompleted'): Promise<StoredEvent[]> =>
  (await ledger.store.readStream(SCHEDULES_STREAM)).filter((event) => event.type === type);

/** A runner as `serve` starts it, its errors kept for the test and its runs noted by occurrence. */
function startRunner(ledger: OpenLedger, options: Partial<ScheduleRunnerOptions> = {}) {
  const errors: unknown[] = [];
  const ran: string[] = [];
  const runner = new ScheduleRunner(ledger, {
    exclusively: ledger.runOccurrenceExclusively,
    onError: (error) => errors.push(error),
    onRun: (job, occurrence) => ran.push(`${job}@${occurrence}`),
    pollMs: 200,
    retryMs: 100,
    ...options,
  }).start();
  return { runner, errors, ran };
}

/**
 * `serve`'s scheduled runs (README "Scheduled runs"): a schedule of the log fires, runs its job
 * through the same use case as the API, and records the run with its report's ids and counts.
 */
describe('scheduled runs: a schedule fires, its run is recorded in the log', function () {
  this.timeout(60_000);
  let ledger: TestLedger;
  const inactive = person();
  before(async () => {
    ledger = await openTestLedger();
    await configureTestPurposes(ledger);
    await publish(ledger, { events: [registered(inactive, '2019-05-01T09:00:00Z'), consentGiven(inactive, OLD)] });
    await ledger.runner.catchUp();
  });
  after(async () => ledger.dispose());
  const OLD = '2019-05-02T09:00:00Z';

  it('runs the inactive batch (apply) and the expiry job every second, recording each occurrence once', async () => {
    await configureSchedule(ledger, 'inactive-contacts', { cron: EVERY_SECOND, mode: 'apply' });
    await configureSchedule(ledger, 'consent-expiry', { cron: EVERY_SECOND });
    const started = new Date();
    const { runner, errors, ran } = startRunner(ledger);
    await until('two runs of each job', async () => {
      const jobs = (await runsOf(ledger)).map((event) => event.data['job'] as ScheduleJob);
      return jobs.filter((job) => job === 'inactive-contacts').length >= 2 && jobs.includes('consent-expiry');
    });
    await runner.stop();
    expect(errors).to.deep.equal([]);

    const runs = await runsOf(ledger);
    expect(runs.map((run) => `${run.data['job']}@${run.data['occurrence']}`).sort()).to.deep.equal([...ran].sort());
    const batches = runs.filter((run) => run.data['job'] === 'inactive-contacts');
    const [first] = batches;
    // The occurrence is a whole second the cron named, after the start, as of which the batch ran.
    expect(String(first!.data['occurrence'])).to.match(/T\d\d:\d\d:\d\d\.000Z$/);
    expect(new Date(String(first!.data['occurrence'])).getTime()).to.be.greaterThan(started.getTime() - 1000);
    expect(first!.data['counts']).to.include({ erased: 1 });
    const batch = await ledger.store.readStream(batchStream(String(first!.data['runId'])));
    expect(batch[0]!.type).to.equal('InactiveBatchStarted');
    expect(batch[0]!.data['asOf']).to.equal(first!.data['occurrence']);
    // The next night finds nothing more to forget; one ContactErased in all.
    expect(batches[1]!.data['counts']).to.include({ erased: 0 });
    const contact = await ledger.store.readStream(`contact-${inactive.contactId}`);
    expect(contact.filter((event) => event.type === 'ContactErased')).to.have.length(1);

    // Ids and counts only: no contact id and nothing personal in the schedules stream's records.
    const recorded = JSON.stringify(await ledger.store.readStream(SCHEDULES_STREAM));
    for (const value of [inactive.contactId, ...personalValues(inactive)]) expect(recorded).not.to.contain(value);

    const views = Object.fromEntries((await listSchedules(ledger)).map((view) => [view.job, view]));
    const last = runs.filter((run) => run.data['job'] === 'consent-expiry').at(-1)!;
    expect(views['consent-expiry']!.lastRun).to.deep.include({
      outcome: 'completed',
      occurrence: last.data['occurrence'],
      counts: { expired: 0 },
    });
    expect(new Date(views['consent-expiry']!.nextRun!).getTime()).to.be.greaterThan(Date.now() - 1000);
  });

  it('a run that fails is recorded with its error class only, and the next occurrence runs again', async () => {
    await configureSchedule(ledger, 'consent-expiry', { cron: EVERY_SECOND, enabled: false });
    await configureSchedule(ledger, 'inactive-contacts', { cron: EVERY_SECOND, mode: 'simulate' });
    const failing = Object.create(ledger.readModels, {
      inactivityFactsBefore: {
        value: () => {
          throw new RuleViolation(`read model of ${inactive.contactId} refused`, 'nothing');
        },
      },
    });
    const before = (await runsOf(ledger, 'ScheduledRunFailed')).length;
    const { runner, errors } = startRunner({ ...ledger, readModels: failing });
    await until('two failed runs', async () => (await runsOf(ledger, 'ScheduledRunFailed')).length >= before + 2);
    await runner.stop();
    const failed = (await runsOf(ledger, 'ScheduledRunFailed')).slice(before);
    expect(failed[0]!.data).to.include({ job: 'inactive-contacts', error: 'RuleViolation' });
    expect(JSON.stringify(failed)).not.to.contain(inactive.contactId);
    expect(errors.length).to.be.greaterThanOrEqual(2);
    expect((await listSchedules(ledger)).find((view) => view.job === 'inactive-contacts')!.lastRun).to.include({
      outcome: 'failed',
      error: 'RuleViolation',
    });
  });
});

/**
 * Several nodes on one PostgreSQL database (docs/multi-machine.md): every node follows the
 * schedules, and exactly one runs each occurrence (an advisory lock, and the log's record of the
 * run for a node that gets the lock after it).
 */
describe('scheduled runs on two nodes sharing PostgreSQL: exactly one runs each occurrence', function () {
  this.timeout(60_000);
  const schema = testSchemaName();
  const dirs: string[] = [];
  const nodes: OpenLedger[] = [];
  before(async () => {
    const env = {
      LEDGER_STORE: 'postgres',
      LEDGER_DATABASE_URL: TEST_DATABASE_URL,
      LEDGER_DATABASE_SCHEMA: schema,
      LEDGER_KEYS_SCHEMA: `${schema}_keys`,
      LEDGER_MASTER_KEY: randomBytes(32).toString('base64'),
      LOG_LEVEL: 'silent',
    };
    for (let i = 0; i < 2; i++) {
      const dir = mkdtempSync(join(tmpdir(), 'ledger-test-'));
      dirs.push(dir);
      nodes.push(await openLedger(readConfig({ ...env, LEDGER_DATA_DIR: dir }), createLogger('silent')));
    }
  });
  after(async () => {
    for (const node of nodes) await node.close();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    const pool = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 1 });
    await dropSchemas(pool, [schema, `${schema}_keys`]).finally(() => pool.end());
  });

  it('both nodes fire every second; each occurrence runs on one of them and is recorded once', async () => {
    await configureSchedule(nodes[0]!, 'inactive-contacts', { cron: EVERY_SECOND, mode: 'apply' });
    const started = nodes.map((node) => startRunner(node));
    await until('four recorded runs', async () => (await runsOf(nodes[0]!)).length >= 4);
    await Promise.all(started.map(({ runner }) => runner.stop()));
    for (const { errors } of started) expect(errors).to.deep.equal([]);

    const recorded = (await runsOf(nodes[1]!)).map((run) => `${run.data['job']}@${run.data['occurrence']}`);
    expect(new Set(recorded).size).to.equal(recorded.length);
    const [here, there] = started.map(({ ran }) => ran);
    expect(here!.filter((occurrence) => there!.includes(occurrence))).to.deep.equal([]);
    expect([...here!, ...there!].sort()).to.deep.equal([...recorded].sort());
    // One batch run per occurrence, whichever node ran it.
    const all = await nodes[0]!.store.readAll({ limit: 10_000 });
    expect(all.filter((event) => event.type === 'InactiveBatchStarted')).to.have.length(recorded.length);
  });

  it('an occurrence held by one node is not run by another; another occurrence is', async () => {
    let release!: () => void;
    const holding = nodes[0]!.runOccurrenceExclusively(
      'inactive-contacts@T1',
      () => new Promise<void>((r) => (release = r)),
    );
    await until('the lock taken', async () => release !== undefined);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const attempt = (name: string) => nodes[1]!.runOccurrenceExclusively(name, async () => 'ran');
    expect(await attempt('inactive-contacts@T1')).to.deep.equal({ ran: false });
    expect(await attempt('inactive-contacts@T2')).to.deep.equal({ ran: true, value: 'ran' });
    release();
    expect(await holding).to.deep.equal({ ran: true, value: undefined });
    expect(await attempt('inactive-contacts@T1')).to.deep.equal({ ran: true, value: 'ran' });
  });

  it('a node waiting on a taken occurrence runs it when the holder ends without recording it', async () => {
    await configureSchedule(nodes[0]!, 'inactive-contacts', { cron: '*/10 * * * * *', mode: 'simulate' });
    // Four seconds ahead at least: on a loaded machine, taking the lock and starting the runner
    // below must both happen before the occurrence is due, or the runner waits for the next one;
    // and ten seconds between occurrences, for its retry to come before the next is due.
    const occurrence = new Date(Math.ceil((Date.now() + 4000) / 10_000) * 10_000).toISOString();
    let release!: () => void;
    // A holder that dies before recording: its lock goes, and no run of the occurrence is in the log.
    const holding = nodes[0]!.runOccurrenceExclusively(
      `inactive-contacts@${occurrence}`,
      () => new Promise<void>((r) => (release = r)),
    );
    await until('the lock taken', async () => release !== undefined);
    const { runner, errors, ran } = startRunner(nodes[1]!);
    await new Promise((resolve) => setTimeout(resolve, new Date(occurrence).getTime() - Date.now() + 1000));
    expect(ran).not.to.include(`inactive-contacts@${occurrence}`);
    release();
    await holding;
    await until('the run recorded', async () =>
      (await runsOf(nodes[0]!)).some((run) => run.data['occurrence'] === occurrence),
    );
    await runner.stop();
    expect(errors).to.deep.equal([]);
    expect(ran).to.include(`inactive-contacts@${occurrence}`);
  });
});
