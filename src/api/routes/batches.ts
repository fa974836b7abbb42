import { Type } from '@sinclair/typebox';
import { BATCH_OUTCOMES } from '../../domain/inactive-contacts.js';
import { ROLES } from '../../domain/catalog.js';
import { Instant } from '../../domain/schema-kit.js';
import { recencyListRoles } from '../../domain/recency-list.js';
import { runInactiveBatch } from '../../app/inactive-contacts-batch.js';
import { withForgettingsSince } from '../../app/forgotten-since.js';
import { dayOrInstant, InactiveBatchRequest, parseDayOrInstant } from '../request-bodies.js';
import { Nullable, Obj, route } from '../route.js';

const RecencyPage = Obj(
  {
    before: Instant(),
    roles: Type.Array(Type.String()),
    items: Type.Array(Obj({ contactId: Type.String(), recency: Instant(), role: Nullable(Type.String()) })),
    next: Nullable(Type.String({ description: 'pass back as after for the next page; null on the last page' })),
  },
  { title: 'RecencyPage' },
);

const LOG_ONLY = ['notInactiveInLog', 'skippedValidTicket', 'purgeSkippedLegalHold'] as const;
const Count = () => Type.Integer({ minimum: 0 });
const Ids = () => Type.Array(Type.String());
const byOutcome = <T extends () => ReturnType<typeof Count> | ReturnType<typeof Ids>>(of: T, extra: object = {}) =>
  Obj({
    ...Object.fromEntries(BATCH_OUTCOMES.map((outcome) => [outcome, of()])),
    ...Object.fromEntries(LOG_ONLY.map((outcome) => [outcome, Type.Optional(of())])),
    ...extra,
  });

const BatchReport = Obj(
  {
    runId: Nullable(Type.String({ description: 'the run stream of an applied run; null for a simulation' })),
    simulated: Type.Boolean(),
    simulationId: Type.String({ description: 'names this outcome: pass it back as simulationId to apply it' }),
    asOf: Instant(),
    inactivityMonths: Type.Integer({ minimum: 1 }),
    cutoff: Instant(),
    counts: byOutcome(Count, { orderDataPurged: Count() }),
    contacts: byOutcome(Ids),
    ordersPurged: Ids(),
  },
  { title: 'InactiveBatchReport' },
);

export const batchRoutes = [
  route({
    method: 'get',
    path: '/v1/recency',
    operationId: 'listRecency',
    summary: 'contacts whose GDPR recency is older than a date, each with its role, keyset paged',
    access: 'batch',
    query: Type.Object({
      before: Type.String({
        description: 'a date (YYYY-MM-DD or YYYYMMDD) or an RFC 3339 instant',
        maxLength: 64,
      }),
      role: Type.Optional(
        Type.String({
          description: `all, or roles separated by commas among ${ROLES.join(', ')}; default individual,relay`,
          maxLength: 200,
        }),
      ),
      limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
      after: Type.Optional(Type.String({ maxLength: 1000, description: 'the next cursor of the previous page' })),
    }),
    responses: { 200: { description: 'a page, oldest recency first (no personal data)', schema: RecencyPage } },
    async handle({ query, res }, { ledger }) {
      const before = parseDayOrInstant(query.before, 'before', { compactDay: true }).toISOString();
      const roles = recencyListRoles(query.role);
      const { result, forgotten } = await withForgettingsSince(ledger, () =>
        ledger.readModels.recencyBefore(before, query.after ?? null, query.limit, roles),
      );
      // The cursor stays the page's own: a contact forgotten since is dropped, not replaced.
      res.json({ before, roles, ...result, items: result.items.filter((item) => !forgotten.has(item.contactId)) });
    },
  }),
  route({
    method: 'post',
    path: '/v1/batches/inactive-contacts',
    operationId: 'runInactiveContactsBatch',
    summary: 'the inactive-contact batch: a simulation (200) unless simulate is false (201); its report',
    access: 'batch',
    body: { schema: InactiveBatchRequest, limit: 4096, what: 'batch request', component: 'InactiveBatchRequest' },
    responses: {
      200: { description: 'a simulation: nothing written', schema: BatchReport },
      201: { description: 'an applied run: its forgettings appended', schema: BatchReport },
    },
    problems: [409, 422],
    async handle({ body, res }, { ledger }) {
      const { report } = await runInactiveBatch(ledger, {
        ...(body.inactivityMonths !== undefined ? { inactivityMonths: body.inactivityMonths } : {}),
        ...(body.asOf !== undefined ? { asOf: dayOrInstant(body.asOf) } : {}),
        ...(body.simulationId !== undefined ? { simulationId: body.simulationId } : {}),
        apply: body.simulate === false,
      });
      // The shredder reaction of this process destroys the keys of the forgettings appended.
      res.status(report.simulated ? 200 : 201).json(report);
    },
  }),
];
