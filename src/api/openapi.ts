import { Type } from '@sinclair/typebox';
import { catalog, EVENT_TYPES } from '../domain/catalog.js';
import type { Role } from '../domain/api-keys.js';
import { Envelope, MAX_BATCH } from '../domain/envelope.js';
import { PurposeSettings } from '../domain/purposes.js';
import { ConsentExpirySchedule, InactiveContactsSchedule, SCHEDULE_JOBS } from '../domain/schedules.js';
import { TargetingRequest } from '../domain/targeting.js';
import {
  ConsentExpiryRequest,
  ConsentLinkAnswer,
  ConsentLinkRequest,
  ErasureRefusalBody,
  ErasureRequestBody,
  InactiveBatchRequest,
} from './request-bodies.js';
import { CONSENT_LINK_LIMIT } from './rate-limit.js';
import { PROBLEM_TYPES } from '../domain/problem-types.js';

/** One route as the API document lists it: who may call it, what it takes and what it answers. */
export interface RouteDoc {
  method: 'get' | 'post' | 'put' | 'delete';
  /** Express's path (`:id`); the document writes `{id}`. */
  path: string;
  /** null: open (see the route's description). */
  role: Role | null;
  summary: string;
  /** What the summary cannot say in a line (CommonMark). */
  description?: string;
  parameters?: Array<{ name: string; in: 'query' | 'path'; required: boolean; description: string }>;
  requestSchema?: string;
  /** Status codes of success, with their media type. */
  success: Record<string, string>;
  /** Problem statuses besides the ones every keyed route may answer (400, 401, 403, 421). */
  problems?: number[];
}

/**
 * What a batch's append guarantees, by backend (README "HTTP API"; src/eventstoredb/esdb-event-store.ts
 * says why EventStoreDB's is per stream).
 */
const PUBLISH_ATOMICITY =
  'Every event is validated before any is appended. On SQLite and PostgreSQL a batch is one transaction: ' +
  'all of it is appended, or none. On EventStoreDB (`LEDGER_STORE=eventstoredb`) it is all or none per ' +
  'stream, not per batch: a refusal found before writing (409 on an `expectedRevision`, 410, 422, an id ' +
  "re-used in the batch's streams) appends nothing, but a failure while writing (503, or a 409 when " +
  'another writer moved a stream given an `expectedRevision`) may leave the streams written before it. ' +
  'Give every event its `id`: publishing the same batch again then completes it, the events already ' +
  'stored coming back as `duplicates`.';

const id = { name: 'id', in: 'path', required: true, description: 'the contact id (opaque)' } as const;
/** A route of one contact's personal data: an operator's, 404 when unknown, 500 when a seal fails to open. */
const contactRoute = (suffix: string, summary: string): RouteDoc => ({
  method: 'get',
  path: `/v1/contacts/:id${suffix}`,
  role: 'operator',
  summary,
  parameters: [id],
  success: { 200: 'application/json' },
  problems: [404, 500],
});
const token = { name: 'token', in: 'path', required: true, description: 'the consent link token (cl1.…)' } as const;
const requestId = { name: 'id', in: 'path', required: true, description: 'the erasure request id (ER-…)' } as const;
const LINK_BUDGET = `${CONSENT_LINK_LIMIT.requests} requests per ${CONSENT_LINK_LIMIT.windowMs / 1000} s`;
const job = {
  name: 'job',
  in: 'path',
  required: true,
  description: `the scheduled job: ${SCHEDULE_JOBS.join(' or ')}`,
} as const;
const query = (name: string, description: string, required = false) =>
  ({ name, in: 'query', required, description }) as const;

/** Every route of the API (a test checks it against the express app). */
export const ROUTE_DOCS: RouteDoc[] = [
  {
    method: 'get',
    path: '/health',
    role: null,
    summary: 'liveness, head position and projection lag',
    success: { 200: 'application/json', 503: 'application/json' },
  },
  {
    method: 'get',
    path: '/metrics',
    role: null,
    summary: 'Prometheus metrics (open on loopback; any key otherwise)',
    success: { 200: 'text/plain' },
  },
  {
    method: 'get',
    path: '/openapi.json',
    role: null,
    summary: 'this document (open on loopback; any key otherwise)',
    success: { 200: 'application/json' },
  },
  {
    method: 'post',
    path: '/v1/events',
    role: 'publisher',
    summary:
      'publish one event or a batch: all validated, then all appended or none ' +
      '(on EventStoreDB: all or none per stream, not per batch)',
    description: PUBLISH_ATOMICITY,
    requestSchema: 'PublishBody',
    success: { 201: 'application/json', 200: 'application/json' },
    problems: [409, 410, 413, 415, 422],
  },
  {
    method: 'get',
    path: '/v1/recency',
    role: 'batch',
    summary: 'contacts whose GDPR recency is older than a date, each with its role, keyset paged',
    parameters: [
      query('before', 'a date (YYYY-MM-DD or YYYYMMDD) or an RFC 3339 instant', true),
      query('role', 'all, or roles separated by commas; default individual,relay (the batch candidates)'),
      query('limit', '1 to 1000, default 100'),
      query('after', 'the next cursor of the previous page'),
    ],
    success: { 200: 'application/json' },
  },
  {
    method: 'get',
    path: '/v1/contacts',
    role: 'operator',
    summary: 'contacts by e-mail, through the keyed blind index',
    parameters: [query('email', 'one e-mail address', true)],
    success: { 200: 'application/json' },
  },
  contactRoute('', 'the personal view, folded from the stream'),
  contactRoute('/events', 'the decrypted timeline'),
  contactRoute('/export', 'right of access and portability: everything held, with the notice'),
  {
    method: 'post',
    path: '/v1/text-guard',
    role: 'operator',
    summary: 'special-category or judgemental wording in a text',
    requestSchema: 'TextGuardRequest',
    success: { 200: 'application/json' },
    problems: [415],
  },
  {
    method: 'get',
    path: '/v1/audit/events',
    role: 'auditor',
    summary: 'the log as stored, in position order, as NDJSON (sealed parts never opened)',
    parameters: [query('from', 'exclusive position, default 0'), query('limit', '1 to 1000000, default 10000')],
    success: { 200: 'application/x-ndjson' },
  },
  {
    method: 'post',
    path: '/v1/batches/inactive-contacts',
    role: 'batch',
    summary: 'the inactive-contact batch: a simulation (200) unless simulate is false (201); its report',
    requestSchema: 'InactiveBatchRequest',
    success: { 200: 'application/json', 201: 'application/json' },
    problems: [415],
  },
  {
    method: 'post',
    path: '/v1/consents/expire',
    role: 'batch',
    summary: 'the consent-expiry job: every "yes" past its expiry back to unknown; 201 when any expired, else 200',
    requestSchema: 'ConsentExpiryRequest',
    success: { 200: 'application/json', 201: 'application/json' },
    problems: [415, 422],
  },
  {
    method: 'post',
    path: '/v1/targeting',
    role: 'operator',
    summary:
      'a campaign audience: {eligible: [contactIds], excluded: {reason: count}, withoutAnswer}; operational ' +
      'campaigns skip the consent filter only; recencyBefore selects the consent-renewal audience',
    requestSchema: 'TargetingRequest',
    success: { 200: 'application/json' },
    problems: [413, 415],
  },
  {
    method: 'post',
    path: '/v1/contacts/:id/consent-link',
    role: 'operator',
    summary: "a signed, expiring self-service link to the person's consents: 201 {token, path, expiresAt}",
    parameters: [id],
    requestSchema: 'ConsentLinkRequest',
    success: { 201: 'application/json' },
    problems: [404, 410, 415],
  },
  {
    method: 'get',
    path: '/v1/consent-links/:token',
    role: null,
    summary:
      "the person's consents, through their link (no key: the token is the proof; 404 forged, 410 expired; " +
      `429 with Retry-After past ${LINK_BUDGET} on the link)`,
    parameters: [token],
    success: { 200: 'application/json' },
    problems: [404, 410, 429],
  },
  {
    method: 'post',
    path: '/v1/consent-links/:token',
    role: null,
    summary:
      'the person gives or withdraws a consent through their link (source portal, IP kept as evidence); ' +
      `an answer that changes nothing appends nothing; the link's ${LINK_BUDGET} count it`,
    parameters: [token],
    requestSchema: 'ConsentLinkAnswer',
    success: { 200: 'application/json' },
    problems: [400, 404, 410, 415, 422, 429],
  },
  {
    method: 'post',
    path: '/v1/erasure-requests',
    role: 'operator',
    summary: 'record a request to be forgotten: {requestId, status: pending, dueAt} (30 days)',
    requestSchema: 'ErasureRequestBody',
    success: { 201: 'application/json' },
    problems: [404, 410, 415],
  },
  {
    method: 'get',
    path: '/v1/erasure-requests',
    role: 'operator',
    summary: 'erasure requests, oldest first (never their evidence: see GET /v1/erasure-requests/{id})',
    parameters: [query('status', 'pending, done, refused or overdue (pending past its due date)')],
    success: { 200: 'application/json' },
  },
  {
    method: 'get',
    path: '/v1/erasure-requests/:id',
    role: 'operator',
    summary:
      'one request with its evidence opened (evidenceState: open, none, erased or period-ended), even once ' +
      'the person is forgotten, until evidenceKeptUntil (5 years after the request)',
    parameters: [requestId],
    success: { 200: 'application/json' },
    problems: [404, 500],
  },
  {
    method: 'post',
    path: '/v1/erasure-requests/:id/execute',
    role: 'operator',
    summary: 'run the checks and forget the person, or 422 naming what blocks (the request stays pending)',
    parameters: [requestId],
    success: { 200: 'application/json' },
    problems: [404, 409, 422],
  },
  {
    method: 'post',
    path: '/v1/erasure-requests/:id/refuse',
    role: 'operator',
    summary: 'refuse a pending request with a reason (an event in the log)',
    parameters: [requestId],
    requestSchema: 'ErasureRefusalBody',
    success: { 200: 'application/json' },
    problems: [404, 415, 422],
  },
  {
    method: 'put',
    path: '/v1/purposes/:code',
    role: 'admin',
    summary:
      'configure a purpose (kind, channel, expiry, prolonging events): a configuration event; 200 {purpose, changed}',
    parameters: [{ name: 'code', in: 'path', required: true, description: 'the purpose code (a slug)' }],
    requestSchema: 'PurposeSettings',
    success: { 200: 'application/json' },
    problems: [415, 422],
  },
  {
    method: 'get',
    path: '/v1/purposes',
    role: 'operator',
    summary: 'every purpose as now configured',
    success: { 200: 'application/json' },
  },
  {
    method: 'put',
    path: '/v1/schedules/:job',
    role: 'admin',
    summary:
      'schedule a nightly run of serve (cron, timezone; for inactive-contacts: mode simulate or apply, ' +
      'inactivityMonths): a configuration event; 200 {schedule, changed}',
    parameters: [job],
    requestSchema: 'ScheduleSettings',
    success: { 200: 'application/json' },
    problems: [409, 415],
  },
  {
    method: 'delete',
    path: '/v1/schedules/:job',
    role: 'admin',
    summary: "stop a job's schedule (its past runs stay in the log): 200 {schedule, changed}",
    parameters: [job],
    success: { 200: 'application/json' },
    problems: [409],
  },
  {
    method: 'get',
    path: '/v1/schedules',
    role: 'batch',
    summary: 'every scheduled job: its configuration, its last run (from the log) and its next run',
    success: { 200: 'application/json' },
  },
  {
    method: 'get',
    path: '/v1/audit/checkpoint',
    role: 'auditor',
    summary: 'a signed checkpoint of the log: {position, size, rootHash, time, signature} (Ed25519)',
    success: { 200: 'application/json' },
  },
  {
    method: 'get',
    path: '/v1/audit/verify',
    role: 'auditor',
    summary: 'verification of the hash chains, of the log or of one stream',
    parameters: [query('stream', 'one stream name')],
    success: { 200: 'application/json' },
    problems: [404],
  },
];

/** The request schema of each event type an upstream system may publish: its envelope with its data. */
export const eventSchemas = () =>
  Object.fromEntries(
    EVENT_TYPES.filter((type) => catalog[type].origin === 'upstream').map((type) => [
      `${type}Event`,
      Type.Composite(
        [Type.Omit(Envelope, ['type', 'data']), Type.Object({ type: Type.Literal(type), data: catalog[type].schema })],
        {
          additionalProperties: false,
        },
      ),
    ]),
  );

const PROBLEM = Type.Object({
  type: Type.Union(
    Object.values(PROBLEM_TYPES).map((type) => Type.Literal(type)),
    { description: 'what a client switches on: stable, whatever the title says (README "Problems")' },
  ),
  title: Type.String(),
  status: Type.Integer(),
  detail: Type.String(),
  errors: Type.Optional(
    Type.Array(Type.Object({ index: Type.Optional(Type.Integer()), pointer: Type.String(), message: Type.String() })),
  ),
  action: Type.Optional(Type.String({ description: 'what the operator must do (422)' })),
  retryAfter: Type.Optional(Type.Integer({ description: 'seconds to wait, as the Retry-After header says (429)' })),
});

/** The OpenAPI 3.1 document of the API, from the same TypeBox schemas as the validators. */
export function openApiDocument(version: string) {
  const events = eventSchemas();
  const anyEvent = { oneOf: Object.keys(events).map((name) => ({ $ref: `#/components/schemas/${name}` })) };
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of ROUTE_DOCS) {
    const problems = [...(route.role ? [400, 401, 403] : []), 421, ...(route.problems ?? [])];
    const responses = {
      ...Object.fromEntries(
        Object.entries(route.success).map(([status, type]) => [
          status,
          { description: 'success', content: { [type]: {} } },
        ]),
      ),
      ...Object.fromEntries(problems.map((status) => [status, { $ref: '#/components/responses/Problem' }])),
    };
    paths[route.path.replace(/:(\w+)/g, '{$1}')] = {
      ...paths[route.path.replace(/:(\w+)/g, '{$1}')],
      [route.method]: {
        summary: route.summary,
        ...(route.description ? { description: route.description } : {}),
        'x-role': route.role ?? 'none',
        security: route.role ? [{ apiKey: [] }] : [],
        ...(route.parameters
          ? { parameters: route.parameters.map((p) => ({ ...p, schema: { type: 'string' } })) }
          : {}),
        ...(route.requestSchema
          ? {
              requestBody: {
                required: true,
                content: { 'application/json': { schema: { $ref: `#/components/schemas/${route.requestSchema}` } } },
              },
            }
          : {}),
        responses,
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'contact-ledger',
      version,
      description:
        'Event-sourced GDPR contact ledger. Every route but /health needs `Authorization: Bearer <key>` ' +
        'of a role that may use it (x-role; admin may use every route).',
    },
    paths,
    components: {
      securitySchemes: {
        apiKey: { type: 'http', scheme: 'bearer', description: 'an API key from ledger keys create' },
      },
      schemas: {
        ...events,
        PublishBody: {
          oneOf: [
            anyEvent,
            {
              type: 'object',
              properties: { events: { type: 'array', maxItems: MAX_BATCH, items: anyEvent } },
              required: ['events'],
              additionalProperties: false,
            },
          ],
        },
        TextGuardRequest: {
          type: 'object',
          properties: { text: { type: 'string', minLength: 1, maxLength: 10_000 } },
          required: ['text'],
          additionalProperties: false,
        },
        InactiveBatchRequest,
        ErasureRequestBody,
        ErasureRefusalBody,
        PurposeSettings,
        InactiveContactsSchedule,
        ConsentExpirySchedule,
        ScheduleSettings: {
          description: 'the body of the job named in the path',
          anyOf: [
            { $ref: '#/components/schemas/InactiveContactsSchedule' },
            { $ref: '#/components/schemas/ConsentExpirySchedule' },
          ],
        },
        ConsentExpiryRequest,
        TargetingRequest,
        ConsentLinkAnswer,
        ConsentLinkRequest,
        Problem: PROBLEM,
      },
      responses: {
        Problem: {
          description: 'RFC 9457 problem',
          content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
        },
      },
    },
  };
}
