import { Type } from '@sinclair/typebox';
import { Instant } from '../../domain/schema-kit.js';
import { createMetrics } from '../metrics.js';
import { lastKnownWithin } from '../last-known.js';
import { RETRY_AFTER_SECONDS } from '../problem.js';
import { Nullable, Obj, perApp, route, type RouteContext } from '../route.js';

/** How long /health waits for the database: a load balancer's probe gets its answer within a second. */
const HEALTH_WAIT_MS = 500;

const Position = () => Type.Integer({ minimum: 0 });
export const ProjectionLag = Obj({
  position: Position(),
  head: Position(),
  lag: Type.Integer(),
  failed: Nullable(Type.String({ description: 'why the live runner stopped (error name)' })),
  logMismatch: Nullable(
    Obj({
      reason: Type.Union([Type.Literal('aheadOfLog'), Type.Literal('otherHistory'), Type.Literal('otherMasterKey')]),
      checkpoint: Position(),
      head: Position(),
      action: Type.Union([Type.Literal('rebuilt'), Type.Literal('refused')]),
      at: Instant(),
    }),
  ),
});

const Health = Obj(
  {
    status: Type.Union([Type.Literal('ok'), Type.Literal('degraded')]),
    database: Type.Optional(Type.Literal('unavailable', { description: 'the database did not answer in time' })),
    lastKnownAt: Type.Optional(Instant({ description: 'when what follows was last read' })),
    headPosition: Type.Optional(Position()),
    projection: Type.Optional(ProjectionLag),
    verification: Type.Optional(
      Obj({ at: Instant(), position: Position(), differences: Type.Integer({ minimum: 0 }) }),
    ),
  },
  { title: 'Health' },
);

const health = perApp(({ ledger: { runner, readModels } }: RouteContext) =>
  lastKnownWithin(
    async () => ({ projection: await runner.lag(), verification: await readModels.lastVerification() }),
    HEALTH_WAIT_MS,
  ),
);
const metrics = perApp(({ ledger }: RouteContext) => createMetrics(ledger.runner));

export const systemRoutes = [
  route({
    method: 'get',
    path: '/health',
    operationId: 'getHealth',
    summary: 'liveness, head position and projection lag',
    access: 'open',
    responses: {
      200: { description: 'the ledger and its read models are up', schema: Health },
      503: {
        description:
          'degraded: the database did not answer within 0.5 s (database: unavailable, with what was last known), ' +
          'the projection runner stopped, or the last verification found edited read models',
        schema: Health,
        headers: {
          'Retry-After': {
            description: `seconds to wait (${RETRY_AFTER_SECONDS}), when the database is unavailable`,
            schema: Type.Integer({ minimum: 1 }),
          },
        },
      },
    },
    async handle({ res }, context) {
      const read = await health(context)();
      if (!read.fresh) {
        // The database did not answer in time: an outage, told with what was last known.
        const last = read.last;
        res.set('Retry-After', String(RETRY_AFTER_SECONDS));
        return void res.status(503).json({
          status: 'degraded',
          database: 'unavailable',
          ...(last ? { lastKnownAt: last.at.toISOString(), headPosition: last.value.projection.head } : {}),
          ...(last ? { projection: last.value.projection } : {}),
        });
      }
      const { projection, verification } = read.value;
      // A stopped projection runner, or read models that the last verification found edited, are an
      // outage of the read models: say so loudly.
      const degraded = projection.failed !== null || (verification?.differences ?? 0) > 0;
      res.status(degraded ? 503 : 200).json({
        status: degraded ? 'degraded' : 'ok',
        headPosition: projection.head,
        projection,
        ...(verification ? { verification } : {}),
      });
    },
  }),
  route({
    method: 'get',
    path: '/metrics',
    operationId: 'getMetrics',
    summary: 'Prometheus metrics (open on loopback; any key otherwise)',
    access: 'loopback',
    responses: {
      200: {
        description: 'the Prometheus text exposition format (version 0.0.4)',
        mediaType: 'text/plain',
        schema: Type.String(),
      },
    },
    async handle({ res }, context) {
      const registry = metrics(context);
      res.type(registry.contentType).send(await registry.metrics());
    },
  }),
  route({
    method: 'get',
    path: '/openapi.json',
    operationId: 'getOpenApiDocument',
    summary: 'this document (open on loopback; any key otherwise)',
    access: 'loopback',
    responses: {
      200: {
        description: 'the OpenAPI 3.1 document of the API',
        schema: Type.Object(
          { openapi: Type.Literal('3.1.0'), info: Type.Object({}), paths: Type.Object({}) },
          { additionalProperties: true, title: 'OpenApiDocument' },
        ),
      },
    },
    handle({ res }, context) {
      res.json(context.document());
    },
  }),
];
