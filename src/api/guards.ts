import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Role } from '../domain/api-keys.js';
import { PROBLEM_TYPES } from '../domain/problem-types.js';
import { authenticate } from '../app/authenticate.js';
import type { LedgerContext } from '../app/ledger-context.js';
import { sendProblem } from './problem.js';

/** The bearer token of a request, or null. */
function bearerToken(req: Request): string | null {
  const match = /^Bearer\s+(\S+)$/i.exec(req.get('authorization') ?? '');
  return match ? match[1]! : null;
}

/** Whether the request comes from this machine (loopback, IPv4 or IPv6). */
export const fromLoopback = (req: Request): boolean => {
  const address = req.socket.remoteAddress ?? '';
  return address === '::1' || /^(::ffff:)?127\./.test(address);
};

/**
 * Lets the request through when its key's role may use the route (see authenticate); the key id
 * stays in `res.locals.keyId`, for the routes that record who acted, and the key (its role and
 * subscriber) in `res.locals.key`, for the routes that a subscriber key may use for its own only.
 */
export const requireRole =
  (ledger: Pick<LedgerContext, 'store'>, role: Role | 'any'): RequestHandler =>
  async (req, res, next) => {
    const key = await authenticate(ledger, bearerToken(req), role);
    res.locals['keyId'] = key.keyId;
    res.locals['key'] = key;
    next();
  };

/** Open on loopback (a local Prometheus, a local reader of the API document); any valid key otherwise. */
export const openOnLoopback =
  (ledger: Pick<LedgerContext, 'store'>): RequestHandler =>
  async (req, res, next) => {
    if (fromLoopback(req)) return next();
    return requireRole(ledger, 'any')(req, res, next);
  };

/** The host name of a Host header, without its port (IPv6 literals without brackets). */
function hostName(header: string): string {
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(header);
  if (bracketed) return bracketed[1]!.toLowerCase();
  return header.replace(/:\d+$/, '').toLowerCase();
}

/**
 * Refuses a request whose Host is not one of ours (421): a web page that rebinds its own DNS
 * name to this address still sends its own name, so it cannot reach the API from a browser.
 */
export function hostGuard(allowedHosts: readonly string[]): RequestHandler {
  const allowed = new Set(allowedHosts.map((host) => host.toLowerCase()));
  return (req: Request, res: Response, next: NextFunction) => {
    const host = req.get('host');
    if (host !== undefined && allowed.has(hostName(host))) return next();
    sendProblem(res, {
      type: PROBLEM_TYPES.misdirectedRequest,
      title: 'Misdirected request',
      status: 421,
      detail: 'the Host header is not a name of this ledger (LEDGER_ALLOWED_HOSTS)',
    });
  };
}
