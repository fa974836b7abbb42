import { v5 as uuidv5 } from 'uuid';
import { IdempotencyConflict } from '../domain/errors.js';
import {
  decideConfigureSchedule,
  decideRemoveSchedule,
  foldSchedules,
  SCHEDULE_EVENT_TYPES,
  SCHEDULE_JOBS,
  SCHEDULES_STREAM,
  scheduleView,
  type ScheduledRunEvent,
  type ScheduleEvent,
  type ScheduleJob,
  type SchedulesState,
  type ScheduleSettings,
} from '../domain/schedules.js';
import type { EventStore, StoredEvent } from '../store/event-store.js';
import { appendSealed } from './append-sealed.js';
import { handleCommand, type NewEvent } from './handle-command.js';
import type { LedgerContext } from './ledger-context.js';

export type ScheduleView = ReturnType<typeof scheduleView>;

/** The schedules stream's events as the rules read them (only the ledger writes that stream). */
const scheduleEventsOf = (stored: readonly StoredEvent[]): ScheduleEvent[] =>
  stored
    .filter((event) => SCHEDULE_EVENT_TYPES.has(event.type))
    .map(({ type, occurredAt, data }) => ({ type, occurredAt, data }) as ScheduleEvent);

/** The schedules and their last runs as the log says now (no cache: a change on any node counts at once). */
export const readSchedules = async (store: EventStore): Promise<SchedulesState> =>
  foldSchedules(scheduleEventsOf(await store.readStream(SCHEDULES_STREAM)));

/** One configuration decision on the schedules stream, appended at the revision it read. */
async function decideOnSchedules(
  context: LedgerContext,
  decide: (state: SchedulesState, now: Date) => Pick<ScheduleEvent, 'type' | 'data'> | null,
): Promise<boolean> {
  const { result } = await handleCommand(context, SCHEDULES_STREAM, {
    state: async (stored) => foldSchedules(scheduleEventsOf(stored)),
    decide: (state, now) => {
      const event = decide(state, now);
      const events: NewEvent[] = event
        ? [{ type: event.type, data: { ...event.data }, stream: SCHEDULES_STREAM, organizationId: '' }]
        : [];
      return { events, result: event !== null };
    },
  });
  return result;
}

/**
 * Schedules a job (a configuration event; the same configuration again appends nothing), and
 * answers with it as now in force, its last run and its next.
 */
export async function configureSchedule(
  context: LedgerContext,
  job: ScheduleJob,
  settings: ScheduleSettings,
): Promise<{ schedule: ScheduleView; changed: boolean }> {
  const changed = await decideOnSchedules(context, (state, now) => {
    const data = decideConfigureSchedule(state, job, settings, now);
    return data ? { type: 'ScheduleConfigured', data } : null;
  });
  return { schedule: scheduleView(await readSchedules(context.store), job, context.now()), changed };
}

/** Stops a job's schedule for good (a DELETE repeated appends nothing); its past runs stay in the log. */
export async function removeSchedule(
  context: LedgerContext,
  job: ScheduleJob,
): Promise<{ schedule: ScheduleView; changed: boolean }> {
  const changed = await decideOnSchedules(context, (state) => {
    const data = decideRemoveSchedule(state, job);
    return data ? { type: 'ScheduleRemoved', data } : null;
  });
  return { schedule: scheduleView(await readSchedules(context.store), job, context.now()), changed };
}

/** Every job, scheduled or not, with its last run and its next. */
export async function listSchedules(context: Pick<LedgerContext, 'store' | 'now'>): Promise<ScheduleView[]> {
  const state = await readSchedules(context.store);
  const now = context.now();
  return SCHEDULE_JOBS.map((job) => scheduleView(state, job, now));
}

/** Run records' ids derive from the job and the occurrence: the log holds at most one record of each occurrence. */
const RUN_NAMESPACE = '5d0c3f7e-2b8a-4f7e-9a51-6c2e8b1d4f30';

/**
 * Records a scheduled run in the log. Two nodes that both ran an occurrence (SQLite files shared
 * by two processes, which no lock spans) record it once: the second record is a duplicate, or,
 * when its outcome differs, an IdempotencyConflict that the first record's outcome wins.
 */
export async function recordScheduledRun(context: LedgerContext, run: Omit<ScheduledRunEvent, 'occurredAt'>) {
  const { job, occurrence } = run.data;
  try {
    await appendSealed(context, [
      {
        id: uuidv5(`${job}\n${occurrence}`, RUN_NAMESPACE),
        type: run.type,
        stream: SCHEDULES_STREAM,
        occurredAt: context.now().toISOString(),
        organizationId: '',
        data: { ...run.data },
      },
    ]);
  } catch (error) {
    if (!(error instanceof IdempotencyConflict)) throw error;
  }
}
