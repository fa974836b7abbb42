import { PROBLEM_TYPES } from '../domain/problem-types.js';
import express, {
  type ErrorRequestHandler,
  type Express,
  type NextFunction,
  type Request,
  type RequestHandler,
  type Response,
} from 'express';
import type { ErrorObject } from 'ajv';
import type { TSchema } from '@sinclair/typebox';
import { PayloadTooLarge, ValidationError } from '../domain/errors.js';
import { describeAjvError, validatorFor } from '../domain/validation.js';
import type { Logger } from '../log.js';
import { openOnLoopback, requireRole } from './guards.js';
import { sendProblem } from './problem.js';
import { parseBody } from './request-bodies.js';
import { PROBLEM_REPLIES } from './problem-replies.js';
import type { AnyRoute, Reply, RouteContext } from './route.js';

/**
 * Every status a route may answer: its own replies, and the problems its shape brings (400 for
 * any input, 401/403 for a key, 413/415 for a body, 421, 500 and 503 everywhere: every route
 * reads the database, if only for the caller's key).
 */
export function statusesOf(route: AnyRoute): number[] {
  const input = route.params || route.query || route.body;
  const keyed = route.access !== 'open';
  const statuses = new Set<number>([
    ...Object.keys(route.responses).map(Number),
    ...(input ? [400] : []),
    ...(keyed ? [401] : []),
    ...(keyed && route.access !== 'loopback' ? [403] : []),
    ...(route.body ? [413, 415] : []),
    421,
    500,
    503,
    ...(route.problems ?? []),
  ]);
  return [...statuses].sort((a, b) => a - b);
}

/** The reply a route documents for a status: its own, or the problem document. */
export function replyOf(route: AnyRoute, status: number): Reply | undefined {
  if (route.responses[status]) return route.responses[status];
  if (!statusesOf(route).includes(status)) return undefined;
  return PROBLEM_REPLIES[status] ?? PROBLEM_REPLIES[0]!;
}

/** Express writes `:name`; the document `{name}`. */
export const documentPath = (path: string) => path.replace(/:(\w+)/g, '{$1}');

/** Wires every route of the table into the app, then answers 405 (with Allow) for a known path's other methods. */
export function wireRoutes(app: Express, routes: readonly AnyRoute[], context: RouteContext) {
  const validate = context.options.validateResponses ?? process.env['LEDGER_VALIDATE_RESPONSES'] === '1';
  for (const route of routes) {
    app[route.method](route.path, ...handlersOf(route, context, validate));
  }
  app.use(methodNotAllowed(routes));
}

/** A body past a route's fixed limit: a 413 that says the route's limit, not the configured one. */
const tooLargeFor =
  (limit: number): ErrorRequestHandler =>
  (error: { type?: string }, _req, _res, next) =>
    next(
      error.type === 'entity.too.large'
        ? new PayloadTooLarge(`the request body is larger than this route takes (${limit} bytes)`)
        : error,
    );

function handlersOf(
  route: AnyRoute,
  context: RouteContext,
  validate: boolean,
): Array<RequestHandler | ErrorRequestHandler> {
  const { ledger, options } = context;
  const handlers: Array<RequestHandler | ErrorRequestHandler> = [];
  if (validate) handlers.push(checkResponses(route, context.log));
  if (route.access === 'loopback') handlers.push(openOnLoopback(ledger));
  else if (route.access !== 'open') handlers.push(requireRole(ledger, route.access));
  handlers.push(...(route.before?.(context) ?? []));
  const body = route.body;
  if (body) {
    // LEDGER_MAX_BODY bounds every body; a route may take less (its own limit, said in its 413).
    const ownLimit = body.limit !== 'max' && body.limit < options.maxBodyBytes ? body.limit : null;
    const limit = ownLimit ?? options.maxBodyBytes;
    // A body its use case checks (publish) may be any JSON value: the use case says what is wrong with it.
    handlers.push(requireJson, express.json({ limit, strict: !body.unchecked }));
    // The configured limit is named where it applies (problem.ts); a route's own limit is said here.
    if (ownLimit !== null) handlers.push(tooLargeFor(ownLimit));
  }
  handlers.push(async (req: Request, res: Response) => {
    const params = route.params ? checkInput(route.params, { ...req.params }, 'path') : {};
    const query = route.query ? checkInput(route.query, queryOf(route.query, req.query), 'query') : {};
    let parsed: unknown = req.body;
    if (body && !body.unchecked) {
      parsed = parseBody(body.schemaFor?.(params as Record<string, unknown>) ?? body.schema, req.body, body.what);
    }
    await route.handle({ params, query, body: parsed, req, res }, context);
  });
  return handlers;
}

/**
 * The query as its schema types it: strings trimmed (a pasted address keeps its spaces),
 * integers written in digits read as numbers, absent fields given their default.
 */
function queryOf(schema: TSchema, query: Request['query']): Record<string, unknown> {
  const properties = (schema['properties'] ?? {}) as Record<string, TSchema>;
  const typed: Record<string, unknown> = {};
  for (const [name, raw] of Object.entries(query as Record<string, unknown>)) {
    const value = typeof raw === 'string' ? raw.trim() : raw;
    const integer = properties[name]?.['type'] === 'integer';
    typed[name] = integer && typeof value === 'string' && /^\d{1,16}$/.test(value) ? Number(value) : value;
  }
  for (const [name, property] of Object.entries(properties)) {
    if (typed[name] === undefined && property['default'] !== undefined) typed[name] = property['default'];
  }
  return typed;
}

/** Path or query parameters checked against their schema: a 400 naming each by pointer, never its value. */
function checkInput<T>(schema: TSchema, value: Record<string, unknown>, where: 'path' | 'query'): T {
  const validate = validatorFor(schema);
  if (validate(value)) return value as T;
  const issues: Array<{ pointer: string; message: string }> = [];
  for (const error of validate.errors ?? []) {
    const issue = describeParameterError(error);
    if (!issues.some((known) => known.pointer === issue.pointer)) issues.push(issue);
  }
  const detail = issues.map(({ pointer, message }) => `${pointer.slice(1)} ${message}`).join('; ');
  throw new ValidationError(`the ${where} parameters are not valid: ${detail}`, issues);
}

function describeParameterError(error: ErrorObject): { pointer: string; message: string } {
  if (error.keyword === 'enum') {
    const allowed = (error.params as { allowedValues: unknown[] }).allowedValues.join(', ');
    return { pointer: error.instancePath, message: `must be one of ${allowed}` };
  }
  if (error.keyword === 'type' && (error.params as { type?: string }).type === 'integer') {
    return { pointer: error.instancePath, message: 'must be an integer' };
  }
  return describeAjvError(error);
}

function requireJson(req: Request, res: Response, next: NextFunction) {
  if (req.is('application/json')) return next();
  sendProblem(res, {
    type: PROBLEM_TYPES.unsupportedMediaType,
    title: 'Unsupported media type',
    status: 415,
    detail: 'send the body as application/json',
  });
}

/** A path of the table asked with a method it does not have: 405 with the methods it has. */
function methodNotAllowed(routes: readonly AnyRoute[]): RequestHandler {
  const paths = new Map<string, { pattern: RegExp; methods: Set<string> }>();
  for (const { path, method } of routes) {
    const known = paths.get(path) ?? {
      pattern: new RegExp(`^${path.replace(/:\w+/g, '[^/]+')}/?$`),
      methods: new Set(),
    };
    known.methods.add(method.toUpperCase());
    if (method === 'get') known.methods.add('HEAD');
    paths.set(path, known);
  }
  return (req, res, next) => {
    if (req.method === 'OPTIONS') return next(); // express answers it with Allow
    const allowed = [...paths.values()].filter(({ pattern }) => pattern.test(req.path)).flatMap((p) => [...p.methods]);
    if (allowed.length === 0) return next();
    res.set('Allow', [...new Set(allowed)].join(', '));
    sendProblem(res, {
      type: PROBLEM_TYPES.methodNotAllowed,
      title: 'Method not allowed',
      status: 405,
      detail: `this path takes ${[...new Set(allowed)].join(', ')}`,
    });
  };
}

const JSON_TYPES = /^application\/(.+\+)?json$/;

/**
 * Test mode (LEDGER_VALIDATE_RESPONSES=1): each answer is checked against the route's document
 * before it is sent: its status listed, its media type, and a JSON body against the schema of
 * that status. A mismatch is a 500 that names the route, the status and the schema path that
 * failed, never the value (values may be personal): the document cannot drift from the code.
 */
function checkResponses(route: AnyRoute, log: Logger): RequestHandler {
  const name = `${route.method.toUpperCase()} ${route.path}`;
  return (_req, res, next) => {
    const send = res.send.bind(res);
    res.send = (body?: unknown) => {
      const failure = mismatch(route, res.statusCode, String(res.get('content-type') ?? ''), body);
      if (failure === null) return send(body);
      const detail = `${name} answered ${res.statusCode} against its document: ${failure}`;
      log.error({ route: route.path, status: res.statusCode, failure }, 'response not as documented');
      res.status(500).type('application/problem+json');
      return send(
        JSON.stringify({
          type: PROBLEM_TYPES.responseNotAsDocumented,
          title: 'Response not as documented',
          status: 500,
          detail,
        }),
      );
    };
    next();
  };
}

function mismatch(route: AnyRoute, status: number, contentType: string, body: unknown): string | null {
  const reply = replyOf(route, status);
  if (!reply) return `status ${status} is not documented (documented: ${statusesOf(route).join(', ')})`;
  const mediaType = contentType.split(';')[0]!.trim().toLowerCase();
  const documented = reply.mediaType ?? 'application/json';
  if (mediaType !== documented) return `media type ${mediaType || 'none'} where the document says ${documented}`;
  if (!JSON_TYPES.test(mediaType) || !reply.schema) return null;
  let value: unknown;
  try {
    value = JSON.parse(Buffer.isBuffer(body) ? body.toString('utf8') : String(body));
  } catch {
    return 'the body is not JSON';
  }
  const validate = validatorFor(reply.schema);
  if (validate(value)) return null;
  return (validate.errors ?? [])
    .slice(0, 5)
    .map((error) => {
      const extra = (error.params as { additionalProperty?: string }).additionalProperty;
      const what = `${error.message ?? error.keyword}${extra ? ` (${extra})` : ''}`;
      return `${error.instancePath || '/'} ${what} [${error.schemaPath}]`;
    })
    .join('; ');
}
