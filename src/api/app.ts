import express, { type NextFunction, type Request, type Response } from 'express';
import { ValidationError } from '../domain/errors.js';
import { isOpaqueId } from '../domain/identifiers.js';
import type { Ledger } from '../app/ledger.js';
import type { Logger } from '../log.js';
import { problemHandler, sendProblem } from './problem.js';

export interface ApiOptions {
  maxBodyBytes: number;
}

/** The HTTP API (README "API"). Roles and keys arrive with the auth issue; the routes are here. */
export function createApp(ledger: Ledger, log: Logger, options: ApiOptions) {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.use(accessLog(log));

  app.get('/health', async (_req, res) => {
    res.json({ status: 'ok', headPosition: await ledger.store.headPosition() });
  });

  app.post('/v1/events', requireJson, express.json({ limit: options.maxBodyBytes, strict: false }), async (req, res) => {
    const result = await ledger.publish(req.body);
    res.status(result.appended.length > 0 ? 201 : 200).json(result);
  });

  app.get('/v1/contacts/:id', async (req, res) => {
    const view = await ledger.contactView(contactIdParam(req));
    res.set('Cache-Control', 'no-store').json(view);
  });

  app.get('/v1/contacts/:id/events', async (req, res) => {
    const contactId = contactIdParam(req);
    const events = await ledger.openStream(contactId);
    res.set('Cache-Control', 'no-store').json({ contactId, events });
  });

  app.use((req, res) => {
    sendProblem(res, { type: 'about:blank', title: 'Not found', status: 404, detail: `no route ${req.method} ${req.path.split('/').slice(0, 3).join('/')}` });
  });
  app.use(problemHandler(log));
  return app;
}

function contactIdParam(req: Request): string {
  const id = String(req.params['id']);
  if (!isOpaqueId(id)) {
    // Never echo it: an id that looks like an e-mail or phone number is personal data.
    throw new ValidationError('the contact id is not an opaque id (letters, digits, . _ : -; not an e-mail or phone number)', [
      { pointer: '/contactId', message: 'is not an opaque id' },
    ]);
  }
  return id;
}

function requireJson(req: Request, res: Response, next: NextFunction) {
  if (req.is('application/json')) return next();
  sendProblem(res, {
    type: 'urn:contact-ledger:problem:unsupported-media-type', title: 'Unsupported media type', status: 415,
    detail: 'send the events as application/json',
  });
}

/** One line per request: the route pattern (never the raw URL, which may carry a query), status, time. */
function accessLog(log: Logger) {
  return (req: Request, res: Response, next: NextFunction) => {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      log.info({ method: req.method, route: req.route?.path ?? 'unmatched', status: res.statusCode, ms: Math.round(ms * 10) / 10 }, 'request');
    });
    next();
  };
}
