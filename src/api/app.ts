import { REPLAY_BOUNDS, replayLimit, writeToReader, type ReplayBounds } from './audit-stream.js';
import express, { type NextFunction, type Request, type Response } from 'express';
import helmet from 'helmet';
import type { Role } from '../domain/api-keys.js';
import { ValidationError } from '../domain/errors.js';
import { PROBLEM_TYPES } from '../domain/problem-types.js';
import { packageVersion } from '../version.js';
import { isOpaqueId } from '../domain/identifiers.js';
import { validatorFor } from '../domain/validation.js';
import { Code, Email } from '../domain/schema-kit.js';
import { PurposeSettings } from '../domain/purposes.js';
import { configurePurpose, listPurposes } from '../app/purposes.js';
import { isScheduleJob, SCHEDULE_JOBS, SCHEDULE_SETTINGS, type ScheduleJob } from '../domain/schedules.js';
import { configureSchedule, listSchedules, removeSchedule } from '../app/schedules.js';
import type { OpenLedger } from '../app/open-ledger.js';
import type { LedgerContext } from '../app/ledger-context.js';
import { publish, type TextGuardMode } from '../app/publish.js';
import { guardText, REMARK_RECOMMENDATIONS } from '../domain/text-guard.js';
import { contactView } from '../app/contact-view.js';
import { contactTimeline } from '../app/contact-timeline.js';
import { auditEvents } from '../app/audit-events.js';
import { exportContact } from '../app/export-contact.js';
import { verifyChains } from '../app/verify-chains.js';
import { auditCheckpoint } from '../app/audit-checkpoint.js';
import type { Logger } from '../log.js';
import { problemHandler, RETRY_AFTER_SECONDS, sendProblem } from './problem.js';
import { createMetrics } from './metrics.js';
import { lastKnownWithin } from './last-known.js';
import { hostGuard, openOnLoopback, requireRole } from './guards.js';
import { openApiDocument } from './openapi.js';
import { CONSENT_LINK_LIMIT, rateLimit } from './rate-limit.js';
import {
  dayOrInstant,
  parseDayOrInstant,
  ConsentExpiryRequest,
  ConsentLinkAnswer,
  ConsentLinkRequest,
  ErasureRefusalBody,
  ErasureRequestBody,
  InactiveBatchRequest,
  parseBody,
} from './request-bodies.js';
import {
  erasureRequestWithEvidence,
  executeErasure,
  listErasureRequests,
  refuseErasure,
  requestErasure,
} from '../app/erasure-requests.js';
import { ERASURE_STATUSES, type ErasureStatus } from '../domain/erasure-requests.js';
import { runInactiveBatch } from '../app/inactive-contacts-batch.js';
import { withForgettingsSince } from '../app/forgotten-since.js';
import { expireConsents } from '../app/consent-expiry.js';
import { targetCampaign } from '../app/targeting.js';
import { answerThroughLink, consentPage, issueConsentLink } from '../app/consent-links.js';
import { TargetingRequest } from '../domain/targeting.js';
import { recencyListRoles } from '../domain/recency-list.js';

export interface ApiOptions {
  maxBodyBytes: number;
  /** Host names the API answers to (LEDGER_ALLOWED_HOSTS); any other Host is refused with 421. */
  allowedHosts: readonly string[];
  /** LEDGER_TEXT_GUARD: warn about, or reject, special-category or judgemental wording in notes. */
  textGuard?: TextGuardMode;
  /** Bounds on the auditors' replays (default REPLAY_BOUNDS). */
  replays?: ReplayBounds;
}

/**
 * The HTTP API (README "API"). Every route but /health needs an API key whose role may use it
 * (DESIGN.md "Interfaces"; an admin may do everything); /metrics and /openapi.json are open on
 * loopback and need a key of any role otherwise.
 * No CORS: a browser page of another origin can neither read an answer nor send a key.
 */
export function createApp(
  ledger: Pick<
    OpenLedger,
    keyof LedgerContext | 'readModels' | 'runner' | 'blindIndex' | 'consentLinks' | 'checkpointSigner'
  >,
  log: Logger,
  options: ApiOptions,
) {
  const { readModels, runner, blindIndex } = ledger;
  const app = express();
  const metrics = createMetrics(runner);
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.use(accessLog(log));
  app.use(hostGuard(options.allowedHosts));
  app.use(helmet());
  const role = (required: Role) => requireRole(ledger, required);

  const health = lastKnownWithin(
    async () => ({ projection: await runner.lag(), verification: await readModels.lastVerification() }),
    HEALTH_WAIT_MS,
  );
  app.get('/health', async (_req, res) => {
    const read = await health();
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
  });

  const document = openApiDocument(packageVersion());
  app.get('/openapi.json', openOnLoopback(ledger), (_req, res) => {
    res.json(document);
  });

  app.get('/metrics', openOnLoopback(ledger), async (_req, res) => {
    res.type(metrics.contentType).send(await metrics.metrics());
  });

  app.get('/v1/recency', role('batch'), async (req, res) => {
    const before = parseDayOrInstant(req.query['before'], 'before', { compactDay: true }).toISOString();
    const roles = recencyListRoles(req.query['role']);
    const limit = integerParam(req.query['limit'], 'limit', { min: 1, max: 1000, fallback: 100 });
    const after = typeof req.query['after'] === 'string' ? req.query['after'] : null;
    const { result, forgotten } = await withForgettingsSince(ledger, () =>
      readModels.recencyBefore(before, after, limit, roles),
    );
    // The cursor stays the page's own: a contact forgotten since is dropped, not replaced.
    res.json({ before, roles, ...result, items: result.items.filter((item) => !forgotten.has(item.contactId)) });
  });

  app.post(
    '/v1/events',
    role('publisher'),
    requireJson,
    express.json({ limit: options.maxBodyBytes, strict: false }),
    async (req, res) => {
      const result = await publish(ledger, req.body, { textGuard: options.textGuard ?? 'warn' });
      res.status(result.appended.length > 0 ? 201 : 200).json(result);
    },
  );

  // Look-up by e-mail through the keyed blind index: the address is hashed here and goes no further.
  app.get('/v1/contacts', role('operator'), async (req, res) => {
    const email = req.query['email'];
    if (typeof email !== 'string' || !validatorFor(EmailSchema)(email.trim())) {
      throw new ValidationError('email must be one e-mail address', [
        { pointer: '/email', message: 'is not a valid e-mail address' },
      ]);
    }
    const hash = blindIndex.email(email);
    const { result, forgotten } = await withForgettingsSince(ledger, () => readModels.contactsByEmailHash(hash));
    res.set('Cache-Control', 'no-store').json({ contactIds: result.filter((contactId) => !forgotten.has(contactId)) });
  });

  app.get('/v1/contacts/:id', role('operator'), async (req, res) => {
    const contactId = idParam(req, 'contactId');
    const view = await contactView(ledger, contactId);
    // Recency needs other streams (the cultural contact of someone else's sale): the read model.
    const model = await readModels.contact(contactId);
    res
      .set('Cache-Control', 'no-store')
      .json({ ...view, recency: model?.recency ?? null, customer: model?.customer ?? false });
  });

  app.get('/v1/contacts/:id/events', role('operator'), async (req, res) => {
    const contactId = idParam(req, 'contactId');
    const events = await contactTimeline(ledger, contactId);
    res.set('Cache-Control', 'no-store').json({ contactId, events });
  });

  // The guard an operator's screen calls while a note is typed: nothing is stored, nothing logged.
  app.post('/v1/text-guard', role('operator'), requireJson, express.json({ limit: '64kb' }), async (req, res) => {
    const text = (req.body as { text?: unknown } | null)?.text;
    if (typeof text !== 'string' || text.length === 0 || text.length > 10_000) {
      throw new ValidationError('text must be a string of 1 to 10000 characters', [
        { pointer: '/text', message: 'is not a text' },
      ]);
    }
    res.set('Cache-Control', 'no-store').json({ warnings: guardText(text), reminder: REMARK_RECOMMENDATIONS });
  });

  app.get('/v1/contacts/:id/export', role('operator'), async (req, res) => {
    const exported = await exportContact(ledger, idParam(req, 'contactId'));
    res
      .set('Cache-Control', 'no-store')
      .set('X-Privacy-Notice', 'personal data of one person: verify identity, send securely, keep no copy')
      .set('Content-Disposition', `attachment; filename="contact-export.json"`)
      .json(exported);
  });

  // Auditors read the log as stored, in position order, as NDJSON: sealed parts are never opened.
  const replays = options.replays ?? REPLAY_BOUNDS;
  app.get('/v1/audit/events', role('auditor'), replayLimit(replays), async (req, res) => {
    const from = integerParam(req.query['from'], 'from', { min: 0, max: Number.MAX_SAFE_INTEGER, fallback: 0 });
    const limit = integerParam(req.query['limit'], 'limit', { min: 1, max: 1_000_000, fallback: 10_000 });
    res.type('application/x-ndjson').set('Cache-Control', 'no-store');
    for await (const page of auditEvents(ledger, from, limit)) {
      const chunk = page.map((record) => `${JSON.stringify(record)}\n`).join('');
      if (!(await writeToReader(res, chunk, replays.stalledMs))) return;
    }
    res.end();
  });

  app.post(
    '/v1/batches/inactive-contacts',
    role('batch'),
    requireJson,
    express.json({ limit: '4kb' }),
    async (req, res) => {
      const body = parseBody(InactiveBatchRequest, req.body, 'batch request');
      const { report } = await runInactiveBatch(ledger, {
        ...(body.inactivityMonths !== undefined ? { inactivityMonths: body.inactivityMonths } : {}),
        ...(body.asOf !== undefined ? { asOf: dayOrInstant(body.asOf) } : {}),
        ...(body.simulationId !== undefined ? { simulationId: body.simulationId } : {}),
        apply: body.simulate === false,
      });
      // The shredder reaction of this process destroys the keys of the forgettings appended.
      res.status(report.simulated ? 200 : 201).json(report);
    },
  );

  app.post('/v1/consents/expire', role('batch'), requireJson, express.json({ limit: '4kb' }), async (req, res) => {
    const { asOf } = parseBody(ConsentExpiryRequest, req.body, 'expiry request');
    const report = await expireConsents(ledger, asOf !== undefined ? { asOf: dayOrInstant(asOf) } : {});
    res.status(report.expired > 0 ? 201 : 200).json(report);
  });

  app.post(
    '/v1/targeting',
    role('operator'),
    requireJson,
    express.json({ limit: options.maxBodyBytes }),
    async (req, res) => {
      const body = parseBody(TargetingRequest, req.body, 'targeting request');
      const before = body.recencyBefore !== undefined ? dayOrInstant(body.recencyBefore) : undefined;
      res.set('Cache-Control', 'no-store').json(await targetCampaign(ledger, body, before));
    },
  );

  // The person's own page, reached by the signed link they were sent: no API key, the token is the
  // proof. Each link has its own request budget, counted by a hash of its token.
  const perLink = rateLimit(CONSENT_LINK_LIMIT, (req) => String(req.params['token']));
  app.get('/v1/consent-links/:token', perLink, async (req, res) => {
    res.set('Cache-Control', 'no-store').json(await consentPage(ledger, String(req.params['token'])));
  });

  app.post('/v1/consent-links/:token', perLink, requireJson, express.json({ limit: '4kb' }), async (req, res) => {
    const body = parseBody(ConsentLinkAnswer, req.body, 'consent answer');
    if (body.answer === 'yes' && body.wordingVersion === undefined) {
      throw new ValidationError('a "yes" needs the version of the wording the person was shown', [
        { pointer: '/wordingVersion', message: 'is required with answer yes' },
      ]);
    }
    const { wordingVersion = '' } = body;
    const page = await answerThroughLink(
      ledger,
      String(req.params['token']),
      { ...body, wordingVersion },
      clientIp(req),
    );
    res.set('Cache-Control', 'no-store').json(page);
  });

  app.post(
    '/v1/contacts/:id/consent-link',
    role('operator'),
    requireJson,
    express.json({ limit: '1kb' }),
    async (req, res) => {
      const { days } = parseBody(ConsentLinkRequest, req.body, 'link request');
      res
        .status(201)
        .set('Cache-Control', 'no-store')
        .json(await issueConsentLink(ledger, idParam(req, 'contactId'), days));
    },
  );

  const erasureJson = [role('operator'), requireJson, express.json({ limit: '16kb' })] as const;
  app.post('/v1/erasure-requests', ...erasureJson, async (req, res) => {
    const body = parseBody(ErasureRequestBody, req.body, 'erasure request');
    res
      .status(201)
      .set('Cache-Control', 'no-store')
      .json(await requestErasure(ledger, body));
  });

  app.get('/v1/erasure-requests', role('operator'), async (req, res) => {
    const status = req.query['status'];
    if (status !== undefined && !ERASURE_STATUSES.includes(status as ErasureStatus)) {
      throw new ValidationError(`status must be one of ${ERASURE_STATUSES.join(', ')}`, [
        { pointer: '/status', message: 'is not a request status' },
      ]);
    }
    res.json({ items: await listErasureRequests(ledger, status as ErasureStatus | undefined) });
  });

  // The one route that opens a request's evidence, whether or not the person is forgotten: for the
  // roles that handle requests, until the accountability period ends.
  app.get('/v1/erasure-requests/:id', role('operator'), async (req, res) => {
    res.set('Cache-Control', 'no-store').json(await erasureRequestWithEvidence(ledger, idParam(req, 'requestId')));
  });

  // Executed by the operator whose key called: the forgetting event names it. The shredder
  // reaction of this process destroys the keys.
  app.post('/v1/erasure-requests/:id/execute', role('operator'), async (req, res) => {
    const { request, forgettingEvent } = await executeErasure(ledger, idParam(req, 'requestId'), res.locals['keyId']);
    res.json({ ...request, forgettingEvent: { id: forgettingEvent.id, type: forgettingEvent.type } });
  });

  app.post('/v1/erasure-requests/:id/refuse', ...erasureJson, async (req, res) => {
    const { reason } = parseBody(ErasureRefusalBody, req.body, 'refusal');
    res.json(await refuseErasure(ledger, idParam(req, 'requestId'), reason));
  });

  app.put('/v1/purposes/:code', role('admin'), requireJson, express.json({ limit: '4kb' }), async (req, res) => {
    const code = String(req.params['code']);
    if (!validatorFor(PurposeCode)(code)) {
      throw new ValidationError('the purpose code must be a slug (a-z, 0-9, -; at most 64)', [
        { pointer: '/code', message: 'is not a purpose code' },
      ]);
    }
    const settings = parseBody(PurposeSettings, req.body, 'purpose configuration');
    res.json(await configurePurpose(ledger, code, settings));
  });

  app.get('/v1/purposes', role('operator'), async (_req, res) => {
    res.json({ items: await listPurposes(ledger) });
  });

  // The nightly runs of `serve` (src/jobs/schedules.ts): configuration events, as purposes are.
  app.put('/v1/schedules/:job', role('admin'), requireJson, express.json({ limit: '4kb' }), async (req, res) => {
    const job = scheduleJobParam(req);
    res.json(await configureSchedule(ledger, job, parseBody(SCHEDULE_SETTINGS[job], req.body, 'schedule')));
  });

  app.delete('/v1/schedules/:job', role('admin'), async (req, res) => {
    res.json(await removeSchedule(ledger, scheduleJobParam(req)));
  });

  app.get('/v1/schedules', role('batch'), async (_req, res) => {
    res.json({ items: await listSchedules(ledger) });
  });

  app.get('/v1/audit/checkpoint', role('auditor'), async (_req, res) => {
    res.set('Cache-Control', 'no-store').json(await auditCheckpoint(ledger));
  });

  app.get('/v1/audit/verify', role('auditor'), async (req, res) => {
    const stream = req.query['stream'];
    if (stream !== undefined && (typeof stream !== 'string' || stream.length === 0 || stream.length > 200)) {
      throw new ValidationError('stream must be one stream name', [{ pointer: '/stream', message: 'is not a stream' }]);
    }
    res.json(await verifyChains(ledger, stream));
  });

  app.use((req, res) => {
    sendProblem(res, {
      type: PROBLEM_TYPES.notFound,
      title: 'Not found',
      status: 404,
      detail: `no route ${req.method} ${req.path.split('/').slice(0, 3).join('/')}`,
    });
  });
  app.use(problemHandler(log));
  return app;
}

/** The `:id` of a route, an opaque id (never echoed: an id like an e-mail or phone number is personal data). */
function idParam(req: Request, name: 'contactId' | 'requestId'): string {
  const id = String(req.params['id']);
  if (!isOpaqueId(id)) {
    throw new ValidationError(
      `the ${name === 'contactId' ? 'contact' : 'request'} id is not an opaque id ` +
        '(letters, digits, . _ : -; not an e-mail or phone number)',
      [{ pointer: `/${name}`, message: 'is not an opaque id' }],
    );
  }
  return id;
}

/** The `:job` of a schedule route: one of the jobs `serve` runs on a schedule. */
function scheduleJobParam(req: Request): ScheduleJob {
  const job = req.params['job'];
  if (!isScheduleJob(job)) {
    throw new ValidationError(`the job must be one of ${SCHEDULE_JOBS.join(', ')}`, [
      { pointer: '/job', message: 'is not a scheduled job' },
    ]);
  }
  return job;
}

/** The caller's address as the socket gives it (an IPv4 client seen through an IPv6 socket unwrapped). */
/** How long /health waits for the database: a load balancer's probe gets its answer within a second. */
const HEALTH_WAIT_MS = 500;

const clientIp = (req: Request): string | undefined => req.ip?.replace(/^::ffff:(?=\d+\.)/, '');

const EmailSchema = Email();
const PurposeCode = Code();

/** An integer query parameter within bounds, or its default when absent. */
function integerParam(
  value: unknown,
  name: string,
  { min, max, fallback }: { min: number; max: number; fallback: number },
) {
  if (value === undefined) return fallback;
  const number = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(number) || number < min || number > max) {
    throw new ValidationError(`${name} must be an integer from ${min} to ${max}`, [
      { pointer: `/${name}`, message: 'is out of range' },
    ]);
  }
  return number;
}

/** Resolves once the response can take more (or is closed): backpressure for long streams. */

function requireJson(req: Request, res: Response, next: NextFunction) {
  if (req.is('application/json')) return next();
  sendProblem(res, {
    type: PROBLEM_TYPES.unsupportedMediaType,
    title: 'Unsupported media type',
    status: 415,
    detail: 'send the events as application/json',
  });
}

/** One line per request: the route pattern (never the raw URL, which may carry a query), status, time. */
function accessLog(log: Logger) {
  return (req: Request, res: Response, next: NextFunction) => {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      log.info(
        {
          method: req.method,
          route: req.route?.path ?? 'unmatched',
          status: res.statusCode,
          ms: Math.round(ms * 10) / 10,
        },
        'request',
      );
    });
    next();
  };
}
