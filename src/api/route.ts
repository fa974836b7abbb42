import type { TrustProxy } from '../config.js';
import type { Request, RequestHandler, Response } from 'express';
import type { Static, TObject, TSchema } from '@sinclair/typebox';
import type { Role } from '../domain/api-keys.js';
import type { OpenLedger } from '../app/open-ledger.js';
import type { LedgerContext } from '../app/ledger-context.js';
import type { TextGuardMode } from '../app/publish.js';
import type { Logger } from '../log.js';
import type { ReplayBounds } from './audit-stream.js';
import type { Institution } from '../site-config.js';

export interface ApiOptions {
  maxBodyBytes: number;
  /** Host names the API answers to (LEDGER_ALLOWED_HOSTS); any other Host is refused with 421. */
  allowedHosts: readonly string[];
  /** LEDGER_TEXT_GUARD: warn about, or reject, special-category or judgemental wording in notes. */
  textGuard?: TextGuardMode;
  /** LEDGER_TRUST_PROXY: the proxies whose X-Forwarded-For names the client (default: none). */
  trustProxy?: TrustProxy;
  /** Bounds on the auditors' replays (default REPLAY_BOUNDS). */
  replays?: ReplayBounds;
  /**
   * Check every JSON answer against its route's schema for its status before sending it; a
   * mismatch becomes a 500 naming the route, the status and the schema path (never the value).
   * Default: LEDGER_VALIDATE_RESPONSES=1 (the tests set it), off in production.
   */
  validateResponses?: boolean;
  /** LEDGER_PUBLIC_URL: the origin the links made for people start with (default http://localhost:8080). */
  publicUrl?: string;
  /** LEDGER_INSTITUTION_NAME, LEDGER_PRIVACY_POLICY_URL: who the privacy center speaks for (default: not said). */
  institution?: Institution;
}

/** What the API reads of an open ledger. */
export type ApiLedger = Pick<
  OpenLedger,
  keyof LedgerContext | 'readModels' | 'runner' | 'blindIndex' | 'consentLinks' | 'checkpointSigner'
>;

/** What every handler is given: the ledger, the API's options and its log. */
export interface RouteContext {
  ledger: ApiLedger;
  options: ApiOptions;
  log: Logger;
  /** The API document (GET /openapi.json), generated once from the route table. */
  document: () => unknown;
  /** The origin the links made for people start with, without a trailing slash (ApiOptions.publicUrl). */
  publicUrl: string;
  /** Who the privacy center speaks for (ApiOptions.institution); a null field is not configured. */
  institution: Institution;
}

/**
 * Who may call a route: a role (an admin may call every route), `open` (no key: /health, a
 * consent link whose token is the proof), or `loopback` (open on loopback, a key of any role
 * otherwise: /metrics, /openapi.json).
 */
export type Access = Role | 'open' | 'loopback';

/** One documented answer of a route. */
export interface Reply {
  description: string;
  /** The body's schema (JSON media types); absent for a body the document describes in words. */
  schema?: TSchema;
  /** Default application/json. */
  mediaType?: string;
  headers?: Record<string, { description: string; schema: TSchema }>;
}

/** The body a route takes, with the size limit its parser enforces (413 past it). */
export interface BodySpec<B extends TSchema> {
  schema: B;
  /** Bytes, or `max`: the configured LEDGER_MAX_BODY. */
  limit: number | 'max';
  /** How the validation error names it ("the batch request is not valid"). */
  what: string;
  /** The schema the route checks the body with, when it depends on the path (a schedule's job). */
  schemaFor?: (params: Record<string, unknown>) => TSchema;
  /** The use case validates the body itself (publish: per event index): the route only parses it. */
  unchecked?: true;
  /** The name of its schema among the document's components. */
  component: string;
}

export interface Input<P extends TSchema, Q extends TSchema, B extends TSchema> {
  params: Static<P>;
  query: Static<Q>;
  body: Static<B>;
  req: Request;
  res: Response;
}

/** A route, declared once: the express handler is wired from it and the API document generated from it. */
export interface Route<P extends TSchema = TObject, Q extends TSchema = TObject, B extends TSchema = TSchema> {
  method: 'get' | 'post' | 'put' | 'delete';
  /** Express's path (`:contactId`); the document writes `{contactId}`. */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  access: Access;
  params?: P;
  query?: Q;
  body?: BodySpec<B>;
  /** Every answer but the problems: its status, media type and schema. */
  responses: Record<number, Reply>;
  /**
   * Problem statuses besides those the wiring adds: 400 (any input), 401 and 403 (a key), 413
   * and 415 (a body), 421, 500 and 503 (every route).
   */
  problems?: readonly number[];
  /** Handlers run before the route's own (rate limits), made once per app. */
  before?: (context: RouteContext) => RequestHandler[];
  handle(input: Input<P, Q, B>, context: RouteContext): Promise<void> | void;
}

/** A route of any shape, as the table holds it. */
export type AnyRoute = Route<TSchema, TSchema, TSchema>;

/** Declares a route: the schemas give the handler its typed params, query and body. */
export const route = <P extends TSchema = TObject, Q extends TSchema = TObject, B extends TSchema = TSchema>(
  declared: Route<P, Q, B>,
): AnyRoute => declared as unknown as AnyRoute;

/** A value made once per app (a rate limit's counters, a cache), from its context. */
export function perApp<T>(make: (context: RouteContext) => T): (context: RouteContext) => T {
  const made = new WeakMap<RouteContext, T>();
  return (context) => {
    if (!made.has(context)) made.set(context, make(context));
    return made.get(context)!;
  };
}

/** The answer of a JSON route: its schema, the description its status gets. */
export const json = (schema: TSchema, description: string): Reply => ({ description, schema });

export { Nullable, Obj } from '../domain/schema-kit.js';
