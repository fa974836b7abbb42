import {
  dueSchedule,
  jobState,
  nextOccurrence,
  SCHEDULE_JOBS,
  type RunSummary,
  type Schedule,
  type ScheduleJob,
} from '../domain/schedules.js';
import type { ReadModels } from '../projections/read-models.js';
import { expireConsents } from '../app/consent-expiry.js';
import { runInactiveBatch } from '../app/inactive-contacts-batch.js';
import type { LedgerContext } from '../app/ledger-context.js';
import { readSchedules, recordScheduledRun } from '../app/schedules.js';

/**
 * Runs `work` unless another node (or this one) runs the same `name` now: `{ran: false}` then. On
 * PostgreSQL an advisory lock on a connection of its own; on SQLite (one node) a guard in the process.
 */
export type RunOccurrenceExclusively = <T>(
  name: string,
  work: () => Promise<T>,
) => Promise<{ ran: true; value: T } | { ran: false }>;

export type ScheduleContext = LedgerContext & {
  readModels: Pick<ReadModels, 'inactivityFactsBefore' | 'purgeableOrdersBefore' | 'expiringConsents'>;
  /** The batch brings the read models up to the log before they propose. */
  runner: { catchUp(): Promise<number> };
};

export interface ScheduleRunnerOptions {
  exclusively: RunOccurrenceExclusively;
  /** A failed run (also recorded in the log) or a failed read of the schedules; the runner goes on. */
  onError: (error: unknown, job: ScheduleJob) => void;
  /** After each run recorded: what it recorded (ids and counts only). */
  onRun?: (job: ScheduleJob, occurrence: string, summary: RunSummary | { error: string }) => void;
  /** How often each job's schedule is read again, so that a change made on any node counts (ms; default 5 s). */
  pollMs?: number;
  /** How often a node that found an occurrence's lock taken looks whether its run was recorded (ms; default 1 s). */
  retryMs?: number;
}

/**
 * Runs a job on its schedule, through the same use cases as the API's routes. As of the
 * occurrence (not of the moment this node woke up): any node would run the same thing.
 */
async function runJob(context: ScheduleContext, schedule: Schedule, asOf: Date): Promise<RunSummary> {
  switch (schedule.job) {
    case 'inactive-contacts': {
      const { report } = await runInactiveBatch(context, {
        inactivityMonths: schedule.inactivityMonths,
        asOf,
        apply: schedule.mode === 'apply',
      });
      // An applied batch's own stream (batch-<runId>) names its contacts; here only its counts.
      return { ...(report.runId ? { runId: report.runId } : {}), counts: { ...report.counts } };
    }
    case 'consent-expiry':
      return { counts: { expired: (await expireConsents(context, { asOf })).expired } };
    default: {
      const _never: never = schedule;
      return _never;
    }
  }
}

/**
 * `serve`'s nightly runs (reference pages: "toutes les nuits", a scheduled batch). For each job,
 * it reads the schedule from the log, waits for its next occurrence (an unref'd timer, read again
 * every `pollMs`), then runs it once across every node: under the occurrence's exclusive run, it
 * checks that the log records no run of that occurrence, runs the job, and records the run. A node
 * that finds the lock taken looks again until the run is recorded, and runs it itself if the
 * holder died without recording it. An occurrence missed while no node ran (a restart at 02:00)
 * is not caught up: the next one runs.
 */
export class ScheduleRunner {
  private stopped = false;
  private readonly sleeping = new Set<{ timer: NodeJS.Timeout; wake: () => void }>();
  private readonly following: Promise<void>[] = [];

  constructor(
    private readonly context: ScheduleContext,
    private readonly options: ScheduleRunnerOptions,
  ) {}

  start(): this {
    for (const job of SCHEDULE_JOBS) this.following.push(this.follow(job));
    return this;
  }

  /** Stops waiting; resolves once a run in progress has ended and been recorded. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const { timer, wake } of this.sleeping) {
      clearTimeout(timer);
      wake();
    }
    await Promise.all(this.following);
  }

  private async follow(job: ScheduleJob): Promise<void> {
    const { pollMs = 5_000 } = this.options;
    let pending: Date | null = null;
    while (!this.stopped) {
      try {
        if (pending && this.context.now() >= pending) {
          await this.runOnce(job, pending);
          pending = null;
          continue;
        }
        const { schedule } = jobState(await readSchedules(this.context.store), job);
        pending = schedule ? nextOccurrence(schedule, this.context.now()) : null;
      } catch (error) {
        this.options.onError(error, job);
        pending = null;
      }
      const untilDue = pending ? pending.getTime() - this.context.now().getTime() : pollMs;
      await this.sleep(Math.max(0, Math.min(untilDue, pollMs)));
    }
  }

  /** Runs `occurrence` here unless another node runs it or has run it. */
  private async runOnce(job: ScheduleJob, occurrence: Date): Promise<void> {
    const name = `${job}@${occurrence.toISOString()}`;
    while (!this.stopped) {
      const schedule = dueSchedule(await readSchedules(this.context.store), job, occurrence);
      if (!schedule) return; // recorded by another node, or no longer scheduled
      const attempt = await this.options.exclusively(name, async () => {
        // Again under the lock: a node that held it before this one has recorded its run by now.
        const still = dueSchedule(await readSchedules(this.context.store), job, occurrence);
        if (still) await this.runAndRecord(still, occurrence);
      });
      if (attempt.ran) return;
      // Another node holds it; give up once the next occurrence is due (that one's turn then).
      const following = nextOccurrence(schedule, occurrence);
      if (following && this.context.now() >= following) return;
      await this.sleep(this.options.retryMs ?? 1000);
    }
  }

  private async runAndRecord(schedule: Schedule, occurrence: Date): Promise<void> {
    const { job } = schedule;
    const base = { job, occurrence: occurrence.toISOString(), startedAt: this.context.now().toISOString() };
    let summary: RunSummary | { error: string };
    try {
      summary = await runJob(this.context, schedule, occurrence);
    } catch (error) {
      this.options.onError(error, job);
      // The class name only: a message may name ids, and the log keeps this for as long as it lives.
      summary = { error: error instanceof Error && /^\w{1,64}$/.test(error.name) ? error.name : 'Error' };
    }
    await recordScheduledRun(
      this.context,
      'error' in summary
        ? { type: 'ScheduledRunFailed', data: { ...base, ...summary } }
        : { type: 'ScheduledRunCompleted', data: { ...base, ...summary } },
    );
    this.options.onRun?.(job, base.occurrence, summary);
  }

  private sleep(ms: number): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const entry = {
        timer: setTimeout(() => entry.wake(), ms).unref(),
        wake: () => {
          this.sleeping.delete(entry);
          resolve();
        },
      };
      this.sleeping.add(entry);
    });
  }
}
