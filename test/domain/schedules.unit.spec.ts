import { expect } from 'chai';
import { ValidationError } from '../../src/domain/errors.js';
import {
  decideConfigureSchedule,
  decideRemoveSchedule,
  dueSchedule,
  foldSchedules,
  nextOccurrence,
  scheduleView,
  type ScheduleConfiguration,
  type ScheduleEvent,
  type SchedulesState,
  type ScheduleSettings,
} from '../../src/domain/schedules.js';

const NOW = new Date('2026-03-01T10:00:00.000Z');
const configured = (data: ScheduleConfiguration, occurredAt = '2026-02-01T00:00:00.000Z'): ScheduleEvent => ({
  type: 'ScheduleConfigured',
  occurredAt,
  data,
});
const nightly: ScheduleConfiguration = {
  job: 'inactive-contacts',
  cron: '0 2 * * *',
  timezone: 'Europe/Paris',
  enabled: true,
  mode: 'simulate',
  inactivityMonths: 36,
};
const ran = (occurrence: string, type: 'ScheduledRunCompleted' | 'ScheduledRunFailed' = 'ScheduledRunCompleted') =>
  ({
    type,
    occurredAt: occurrence,
    data: {
      job: 'inactive-contacts',
      occurrence,
      startedAt: occurrence,
      ...(type === 'ScheduledRunCompleted' ? { counts: { anonymized: 2 } } : { error: 'RuleViolation' }),
    },
  }) as ScheduleEvent;

/** The 400 a decision throws: its field pointers. */
function refusal(work: () => unknown): string[] {
  try {
    work();
  } catch (error) {
    expect(error).to.be.instanceOf(ValidationError);
    return (error as ValidationError).issues.map((issue) => issue.pointer);
  }
  throw new Error('not refused');
}

describe('schedules: nightly runs as configuration events (pure rules)', () => {
  const empty: SchedulesState = new Map();

  describe('configuring', () => {
    const rows: Array<[string, ScheduleSettings, Partial<ScheduleConfiguration>]> = [
      [
        'the reference page\'s defaults: a simulation, 36 months (V2 page "Schedule the program")',
        { cron: '0 2 * * *' },
        { mode: 'simulate', inactivityMonths: 36, timezone: 'UTC', enabled: true },
      ],
      [
        'apply, other months, a time zone in its canonical spelling',
        { cron: '0 3 * * 1', mode: 'apply', inactivityMonths: 24, timezone: 'utc' },
        { mode: 'apply', inactivityMonths: 24, timezone: 'UTC' },
      ],
      ['spaces between the fields do not matter', { cron: '  0   2 * * * ' }, { cron: '0 2 * * *' }],
      ['six fields: the seconds first', { cron: '* * * * * *' }, { cron: '* * * * * *' }],
      ['a nickname of the cron library', { cron: '@daily' }, { cron: '@daily' }],
    ];
    for (const [name, settings, expected] of rows) {
      it(name, () => {
        expect(decideConfigureSchedule(empty, 'inactive-contacts', settings, NOW)).to.deep.include({
          job: 'inactive-contacts',
          ...expected,
        });
      });
    }

    it('the expiry job takes no batch option', () => {
      expect(decideConfigureSchedule(empty, 'consent-expiry', { cron: '30 1 * * *' }, NOW)).to.deep.equal({
        job: 'consent-expiry',
        cron: '30 1 * * *',
        timezone: 'UTC',
        enabled: true,
      });
    });

    it('the same configuration again appends nothing; a change appends the whole configuration', () => {
      const state = foldSchedules([configured(nightly)]);
      const same = { cron: '0 2 * * *', timezone: 'Europe/Paris', mode: 'simulate', inactivityMonths: 36 } as const;
      expect(decideConfigureSchedule(state, 'inactive-contacts', same, NOW)).to.equal(null);
      expect(decideConfigureSchedule(state, 'inactive-contacts', { ...same, enabled: false }, NOW)).to.deep.equal({
        ...nightly,
        enabled: false,
      });
    });

    const refused: Array<[string, ScheduleSettings, string]> = [
      ['a minute out of range', { cron: '61 2 * * *' }, '/cron'],
      ['not a cron expression', { cron: 'every night' }, '/cron'],
      ['too many fields', { cron: '0 0 2 * * * 2030 1' }, '/cron'],
      ['a date that never comes (30 February)', { cron: '0 0 30 2 *' }, '/cron'],
      ['an unknown time zone', { cron: '0 2 * * *', timezone: 'Mars/Olympus' }, '/timezone'],
    ];
    for (const [name, settings, pointer] of refused) {
      it(`refuses ${name}: a 400 naming ${pointer}`, () => {
        expect(refusal(() => decideConfigureSchedule(empty, 'inactive-contacts', settings, NOW))).to.deep.equal([
          pointer,
        ]);
      });
    }
  });

  it('a removal stops the schedule and keeps the last run; removing nothing appends nothing', () => {
    expect(decideRemoveSchedule(empty, 'consent-expiry')).to.equal(null);
    const state = foldSchedules([configured(nightly), ran('2026-02-28T01:00:00.000Z')]);
    expect(decideRemoveSchedule(state, 'inactive-contacts')).to.deep.equal({ job: 'inactive-contacts' });
    const removed = foldSchedules([
      configured(nightly),
      ran('2026-02-28T01:00:00.000Z'),
      { type: 'ScheduleRemoved', occurredAt: '2026-03-01T00:00:00.000Z', data: { job: 'inactive-contacts' } },
    ]);
    expect(scheduleView(removed, 'inactive-contacts', NOW)).to.deep.include({ configuration: null, nextRun: null });
    expect(scheduleView(removed, 'inactive-contacts', NOW).lastRun).to.include({
      outcome: 'completed',
      occurrence: '2026-02-28T01:00:00.000Z',
    });
  });

  it('the next run comes from the cron library, in the time zone (02:00 in Paris is 01:00 UTC in winter)', () => {
    const state = foldSchedules([configured(nightly)]);
    expect(scheduleView(state, 'inactive-contacts', NOW)).to.deep.include({
      job: 'inactive-contacts',
      lastRun: null,
      nextRun: '2026-03-02T01:00:00.000Z',
    });
    expect(nextOccurrence({ ...nightly, enabled: false }, NOW)).to.equal(null);
  });

  describe('which occurrence runs', () => {
    const occurrence = new Date('2026-03-02T01:00:00.000Z');
    it('an occurrence of the schedule in force, not yet recorded, is due', () => {
      expect(dueSchedule(foldSchedules([configured(nightly)]), 'inactive-contacts', occurrence)).to.include(nightly);
    });
    it('not once a run of it is recorded, completed or failed (another node ran it)', () => {
      for (const type of ['ScheduledRunCompleted', 'ScheduledRunFailed'] as const) {
        const state = foldSchedules([configured(nightly), ran(occurrence.toISOString(), type)]);
        expect(dueSchedule(state, 'inactive-contacts', occurrence)).to.equal(null);
      }
    });
    it('not when a later occurrence is recorded (a late node does not run an old one)', () => {
      const state = foldSchedules([configured(nightly), ran('2026-03-03T01:00:00.000Z')]);
      expect(dueSchedule(state, 'inactive-contacts', occurrence)).to.equal(null);
    });
    it('not when the schedule changed, was disabled or removed in between', () => {
      const changes: ScheduleEvent[] = [
        configured({ ...nightly, cron: '0 3 * * *' }),
        configured({ ...nightly, enabled: false }),
        { type: 'ScheduleRemoved', occurredAt: NOW.toISOString(), data: { job: 'inactive-contacts' } },
      ];
      for (const change of changes) {
        expect(dueSchedule(foldSchedules([configured(nightly), change]), 'inactive-contacts', occurrence)).to.equal(
          null,
        );
      }
    });
    it('the last run is the latest occurrence, whatever order the records came in', () => {
      const state = foldSchedules([
        configured(nightly),
        ran('2026-03-03T01:00:00.000Z'),
        ran('2026-03-02T01:00:00.000Z', 'ScheduledRunFailed'),
      ]);
      expect(scheduleView(state, 'inactive-contacts', NOW).lastRun).to.deep.equal({
        outcome: 'completed',
        occurrence: '2026-03-03T01:00:00.000Z',
        startedAt: '2026-03-03T01:00:00.000Z',
        finishedAt: '2026-03-03T01:00:00.000Z',
        counts: { anonymized: 2 },
      });
    });
  });
});
