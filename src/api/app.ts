import express, { type NextFunction, type Request, type Response } from 'express';
import helmet from 'helmet';
import type { Logger } from '../log.js';
import { PROBLEM_TYPES } from '../domain/problem-types.js';
import { packageVersion } from '../version.js';
import { problemHandler, sendProblem } from './problem.js';
import { hostGuard } from './guards.js';
import { openApiDocument } from './openapi.js';
import type { ApiLedger, ApiOptions, RouteContext } from './route.js';
import { ROUTES } from './routes/index.js';
import { wireRoutes } from './wiring.js';
import { privacyCenter } from './privacy-center.js';
import { DEFAULT_PORT } from '../config.js';
import { readSiteConfig } from '../site-config.js';

export type { ApiOptions } from './route.js';

/**
 * The HTTP API (README "API"), wired from the route table (routes/): every route but /health and
 * the consent links needs an API key whose role may use it (DESIGN.md "Interfaces"; an admin may
 * do everything); /metrics and /openapi.json are open on loopback and need a key of any role
 * otherwise. No CORS: a browser page of another origin can neither read an answer nor send a key.
 */
export function createApp(ledger: ApiLedger, log: Logger, options: ApiOptions) {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  // Who the client is (req.ip: rate limits per address, the IP sealed as a consent's evidence).
  app.set('trust proxy', options.trustProxy ?? false);
  app.use(accessLog(log));
  app.use(hostGuard(options.allowedHosts));
  app.use(helmet());
  const document = openApiDocument(packageVersion());
  const site = readSiteConfig({}, DEFAULT_PORT); // the defaults, for an app made without them (tests)
  const context: RouteContext = {
    ledger,
    options,
    log,
    document: () => document,
    publicUrl: options.publicUrl ?? site.publicUrl,
    institution: options.institution ?? site.institution,
  };
  wireRoutes(app, ROUTES, context);
  // The person's pages (HTML, outside the API document), beside the API.
  app.use(privacyCenter(context));
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
