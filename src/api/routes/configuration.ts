import { Type, type TSchema } from '@sinclair/typebox';
import { Code, Instant, OneOf } from '../../domain/schema-kit.js';
import { PROLONGING_TYPES, PurposeLabels, PurposeSettings } from '../../domain/purposes.js';
import { BATCH_MODES, SCHEDULE_JOBS, SCHEDULE_SETTINGS, type ScheduleJob } from '../../domain/schedules.js';
import { configurePurpose, listPurposes } from '../../app/purposes.js';
import { configureSchedule, listSchedules, removeSchedule } from '../../app/schedules.js';
import { Nullable, Obj, route } from '../route.js';
import { Items } from './shared-schemas.js';

const Purpose = Obj(
  {
    code: Type.String(),
    kind: PurposeSettings.properties.kind,
    channel: PurposeSettings.properties.channel,
    expiryDays: Nullable(Type.Integer({ minimum: 1, description: 'null: a "yes" never expires' })),
    prolongedBy: Type.Array(OneOf(PROLONGING_TYPES)),
    labels: Nullable(PurposeLabels),
    expirySince: Nullable(Instant({ description: 'when expiry was last enabled' })),
    configuredAt: Instant(),
  },
  { title: 'Purpose' },
);

const Counts = Type.Record(Type.String(), Type.Integer({ minimum: 0 }));
const Schedule = Obj(
  {
    job: OneOf(SCHEDULE_JOBS),
    configuration: Nullable(
      Obj({
        job: OneOf(SCHEDULE_JOBS),
        cron: Type.String(),
        timezone: Type.String(),
        enabled: Type.Boolean(),
        mode: Type.Optional(OneOf(BATCH_MODES)),
        inactivityMonths: Type.Optional(Type.Integer({ minimum: 1 })),
        configuredAt: Instant(),
      }),
    ),
    lastRun: Nullable(
      Obj({
        outcome: OneOf(['completed', 'failed']),
        occurrence: Instant(),
        startedAt: Instant(),
        finishedAt: Instant(),
        runId: Type.Optional(Type.String()),
        counts: Type.Optional(Counts),
        error: Type.Optional(Type.String({ description: "the error's class name, never its message" })),
      }),
    ),
    nextRun: Nullable(Instant()),
  },
  { title: 'Schedule' },
);

const changed = (name: string, item: TSchema) =>
  Obj({ [name]: item, changed: Type.Boolean({ description: 'false: the same again, nothing appended' }) });

const JobParams = Obj({ job: OneOf(SCHEDULE_JOBS, { description: 'the scheduled job' }) });
/** The body of the job named in the path. */
const ScheduleSettings = Type.Union([SCHEDULE_SETTINGS['inactive-contacts'], SCHEDULE_SETTINGS['consent-expiry']], {
  description: 'the body of the job named in the path',
});

export const configurationRoutes = [
  route({
    method: 'put',
    path: '/v1/purposes/:code',
    operationId: 'configurePurpose',
    summary:
      'configure a purpose (kind, channel, expiry, prolonging events, labels): a configuration event; ' +
      '200 {purpose, changed}',
    access: 'admin',
    params: Obj({ code: Code() }),
    body: { schema: PurposeSettings, limit: 4096, what: 'purpose configuration', component: 'PurposeSettings' },
    responses: { 200: { description: 'the purpose as now in force', schema: changed('purpose', Purpose) } },
    problems: [409, 422],
    async handle({ params: { code }, body, res }, { ledger }) {
      res.json(await configurePurpose(ledger, code, body));
    },
  }),
  route({
    method: 'get',
    path: '/v1/purposes',
    operationId: 'listPurposes',
    summary: 'every purpose as now configured',
    access: 'operator',
    responses: { 200: { description: 'by code', schema: Items(Purpose, 'PurposeList') } },
    async handle({ res }, { ledger }) {
      res.json({ items: await listPurposes(ledger) });
    },
  }),
  // The nightly runs of `serve` (src/jobs/schedules.ts): configuration events, as purposes are.
  route({
    method: 'put',
    path: '/v1/schedules/:job',
    operationId: 'configureSchedule',
    summary:
      'schedule a nightly run of serve (cron, timezone; for inactive-contacts: mode simulate or apply, ' +
      'inactivityMonths): a configuration event; 200 {schedule, changed}',
    access: 'admin',
    params: JobParams,
    body: {
      schema: ScheduleSettings,
      schemaFor: (params) => SCHEDULE_SETTINGS[params['job'] as ScheduleJob],
      limit: 4096,
      what: 'schedule',
      component: 'ScheduleSettings',
    },
    responses: { 200: { description: 'the schedule as now in force', schema: changed('schedule', Schedule) } },
    problems: [409],
    async handle({ params: { job }, body, res }, { ledger }) {
      res.json(await configureSchedule(ledger, job, body));
    },
  }),
  route({
    method: 'delete',
    path: '/v1/schedules/:job',
    operationId: 'removeSchedule',
    summary: "stop a job's schedule (its past runs stay in the log): 200 {schedule, changed}",
    access: 'admin',
    params: JobParams,
    responses: { 200: { description: 'the job, now without schedule', schema: changed('schedule', Schedule) } },
    problems: [409],
    async handle({ params: { job }, res }, { ledger }) {
      res.json(await removeSchedule(ledger, job));
    },
  }),
  route({
    method: 'get',
    path: '/v1/schedules',
    operationId: 'listSchedules',
    summary: 'every scheduled job: its configuration, its last run (from the log) and its next run',
    access: 'batch',
    responses: { 200: { description: 'one per job', schema: Items(Schedule, 'ScheduleList') } },
    async handle({ res }, { ledger }) {
      res.json({ items: await listSchedules(ledger) });
    },
  }),
];
