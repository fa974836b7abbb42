import { Type, type Static } from '@sinclair/typebox';
import { Cron } from 'croner';
import { ValidationError } from './errors.js';
import { DEFAULT_INACTIVITY_MONTHS, InactivityMonths } from './inactive-contacts.js';
import { Line, OneOf } from './schema-kit.js';

/**
 * Nightly runs (reference: consent-expiry.fr.txt "Toutes les nuits, SPREAD vérifie les
 * consentements à expirer"; ticketing-gdpr-features-v2.en.txt "Schedule the program
 * 'Deletion/anonymization of inactive contacts'. By default, the period of inactivity is set to 36
 * months and on a simulation mode"). Each job's schedule is a configuration event of the
 * `schedules` stream, so every node reads the same schedule from the log, and each run is recorded
 * there too: which occurrence ran, and its counts (never a contact id nor anything personal).
 */
export const SCHEDULES_STREAM = 'schedules';

export const SCHEDULE_JOBS = ['inactive-contacts', 'consent-expiry'] as const;
export type ScheduleJob = (typeof SCHEDULE_JOBS)[number];
export const isScheduleJob = (value: unknown): value is ScheduleJob =>
  (SCHEDULE_JOBS as readonly unknown[]).includes(value);

export const BATCH_MODES = ['simulate', 'apply'] as const;
export type BatchMode = (typeof BATCH_MODES)[number];

/** Occurrences are computed in this zone when none is given: every node then agrees whatever its own zone. */
export const DEFAULT_TIME_ZONE = 'UTC';

const scheduleFields = {
  /** 5 fields (minute hour day month weekday), or 6 with the seconds first; nicknames such as @daily. */
  cron: Line(120, { description: 'a cron expression, e.g. "0 2 * * *" (every night at 02:00)' }),
  timezone: Type.Optional(Line(64, { description: 'an IANA time zone, e.g. Europe/Paris; default UTC' })),
  enabled: Type.Optional(Type.Boolean({ description: 'false keeps the schedule without running it; default true' })),
};

/** The body of `PUT /v1/schedules/inactive-contacts` (defaults as the reference page's: a simulation, 36 months). */
export const InactiveContactsSchedule = Type.Object(
  {
    ...scheduleFields,
    mode: Type.Optional(OneOf(BATCH_MODES, { description: 'simulate (default) or apply' })),
    inactivityMonths: Type.Optional(InactivityMonths()),
  },
  { additionalProperties: false },
);
/** The body of `PUT /v1/schedules/consent-expiry`. */
export const ConsentExpirySchedule = Type.Object(scheduleFields, { additionalProperties: false });

/** Each job's body schema: one definition gives the type, the validator and the API document's component. */
export const SCHEDULE_SETTINGS = {
  'inactive-contacts': InactiveContactsSchedule,
  'consent-expiry': ConsentExpirySchedule,
} as const;
export type ScheduleSettings = Static<typeof InactiveContactsSchedule> | Static<typeof ConsentExpirySchedule>;

interface ScheduleBase {
  cron: string;
  timezone: string;
  enabled: boolean;
}
/** What a `ScheduleConfigured` event holds: the job's whole configuration from then on, defaults filled in. */
export type ScheduleConfiguration =
  | (ScheduleBase & { job: 'inactive-contacts'; mode: BatchMode; inactivityMonths: number })
  | (ScheduleBase & { job: 'consent-expiry' });

export type Schedule = ScheduleConfiguration & { configuredAt: string };

/** What a run reports in the log: its run id when it has one (an applied batch's stream), and its counts. */
export interface RunSummary {
  runId?: string;
  counts: Record<string, number>;
}

/** A run as recorded: `occurrence` is the time the cron named, `startedAt` when the node that ran it began. */
interface RunRecord {
  job: ScheduleJob;
  occurrence: string;
  startedAt: string;
}

export type ScheduleEvent =
  | { type: 'ScheduleConfigured'; occurredAt: string; data: ScheduleConfiguration }
  | { type: 'ScheduleRemoved'; occurredAt: string; data: { job: ScheduleJob } }
  | { type: 'ScheduledRunCompleted'; occurredAt: string; data: RunRecord & RunSummary }
  /** `error` is the error's class name (e.g. ConcurrencyConflict), never its message. */
  | { type: 'ScheduledRunFailed'; occurredAt: string; data: RunRecord & { error: string } };
export type ScheduledRunEvent = Extract<ScheduleEvent, { type: `ScheduledRun${string}` }>;

export const SCHEDULE_EVENT_TYPES: ReadonlySet<string> = new Set<ScheduleEvent['type']>([
  'ScheduleConfigured',
  'ScheduleRemoved',
  'ScheduledRunCompleted',
  'ScheduledRunFailed',
]);

export interface LastRun {
  outcome: 'completed' | 'failed';
  occurrence: string;
  startedAt: string;
  finishedAt: string;
  runId?: string;
  counts?: Record<string, number>;
  error?: string;
}

export interface JobState {
  schedule: Schedule | null;
  /** The run of the latest occurrence recorded. */
  lastRun: LastRun | null;
}
export type SchedulesState = ReadonlyMap<ScheduleJob, JobState>;

export const jobState = (state: SchedulesState, job: ScheduleJob): JobState =>
  state.get(job) ?? { schedule: null, lastRun: null };

export function evolveSchedules(state: SchedulesState, event: ScheduleEvent): SchedulesState {
  const { job } = event.data;
  const previous = jobState(state, job);
  const next = new Map(state);
  switch (event.type) {
    case 'ScheduleConfigured':
      next.set(job, { ...previous, schedule: { ...event.data, configuredAt: event.occurredAt } });
      return next;
    case 'ScheduleRemoved':
      next.set(job, { ...previous, schedule: null });
      return next;
    case 'ScheduledRunCompleted':
    case 'ScheduledRunFailed': {
      // By occurrence, not log order: a node that records late never makes an older run the last.
      if (previous.lastRun && previous.lastRun.occurrence >= event.data.occurrence) return state;
      const outcome = event.type === 'ScheduledRunCompleted' ? 'completed' : 'failed';
      const { job: _job, ...run } = event.data;
      next.set(job, { ...previous, lastRun: { outcome, ...run, finishedAt: event.occurredAt } });
      return next;
    }
    default: {
      const _never: never = event;
      return _never;
    }
  }
}

export const foldSchedules = (events: Iterable<ScheduleEvent>): SchedulesState => {
  let state: SchedulesState = new Map();
  for (const event of events) state = evolveSchedules(state, event);
  return state;
};

/** The zone's canonical name (`utc` → `UTC`), or null when the runtime knows no such zone. */
function canonicalTimeZone(zone: string): string | null {
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: zone }).resolvedOptions().timeZone;
  } catch {
    return null;
  }
}

/** The cron library's reading of a schedule (it parses only: no timer is started without a function). */
const cronOf = (schedule: Pick<ScheduleBase, 'cron' | 'timezone'>) =>
  new Cron(schedule.cron, { timezone: schedule.timezone, paused: true });

/** The schedule's first occurrence strictly after `after`; null when disabled or when it never fires again. */
export function nextOccurrence(schedule: Schedule | ScheduleConfiguration, after: Date): Date | null {
  return schedule.enabled ? cronOf(schedule).nextRun(after) : null;
}

/**
 * Configures a job's schedule; null when that configuration is already the one in force (a PUT
 * repeated appends nothing). The cron expression is read by the cron library, in the time zone
 * given: one it cannot read, or that never fires after `now`, is a 400 naming `/cron`.
 */
export function decideConfigureSchedule(
  state: SchedulesState,
  job: ScheduleJob,
  settings: ScheduleSettings,
  now: Date,
): ScheduleConfiguration | null {
  const timezone = canonicalTimeZone(settings.timezone ?? DEFAULT_TIME_ZONE);
  if (timezone === null) {
    throw new ValidationError('the time zone is not an IANA time zone name', [
      { pointer: '/timezone', message: 'is not a known time zone (e.g. Europe/Paris)' },
    ]);
  }
  const base = { cron: settings.cron.trim().split(/\s+/).join(' '), timezone, enabled: settings.enabled ?? true };
  const batch = settings as Static<typeof InactiveContactsSchedule>;
  const configuration: ScheduleConfiguration =
    job === 'inactive-contacts'
      ? {
          job,
          ...base,
          mode: batch.mode ?? 'simulate',
          inactivityMonths: batch.inactivityMonths ?? DEFAULT_INACTIVITY_MONTHS,
        }
      : { job, ...base };
  let next: Date | null;
  try {
    next = cronOf(configuration).nextRun(now);
  } catch {
    throw new ValidationError('the cron expression is not valid', [
      { pointer: '/cron', message: 'is not a cron expression ([second] minute hour day month weekday)' },
    ]);
  }
  if (next === null) {
    throw new ValidationError('the cron expression never fires again', [
      { pointer: '/cron', message: 'names no time after now' },
    ]);
  }
  const current = jobState(state, job).schedule;
  if (current) {
    const { configuredAt: _at, ...inForce } = current;
    if (JSON.stringify(sortedKeys(inForce)) === JSON.stringify(sortedKeys(configuration))) return null;
  }
  return configuration;
}

const sortedKeys = (value: object) => Object.fromEntries(Object.entries(value).sort(([a], [b]) => a.localeCompare(b)));

/** Removes a job's schedule; null when it has none (a DELETE repeated appends nothing). */
export function decideRemoveSchedule(state: SchedulesState, job: ScheduleJob): { job: ScheduleJob } | null {
  return jobState(state, job).schedule ? { job } : null;
}

/**
 * The schedule to run `occurrence` with, or null: when the job is no longer scheduled, when
 * `occurrence` is not one of its times any more (its cron changed), or when a run of that
 * occurrence, or of a later one, is already recorded (another node ran it).
 */
export function dueSchedule(state: SchedulesState, job: ScheduleJob, occurrence: Date): Schedule | null {
  const { schedule, lastRun } = jobState(state, job);
  if (!schedule) return null;
  if (lastRun && lastRun.occurrence >= occurrence.toISOString()) return null;
  const same = nextOccurrence(schedule, new Date(occurrence.getTime() - 1));
  return same?.getTime() === occurrence.getTime() ? schedule : null;
}

/** A job as the API shows it: its configuration (null: none), its last run from the log and its next from the cron. */
export const scheduleView = (state: SchedulesState, job: ScheduleJob, now: Date) => {
  const { schedule, lastRun } = jobState(state, job);
  return {
    job,
    configuration: schedule,
    lastRun,
    nextRun: schedule ? (nextOccurrence(schedule, now)?.toISOString() ?? null) : null,
  };
};
