import { StoreUnavailable } from '../domain/errors.js';

/**
 * node-postgres's errors that say PostgreSQL is out of reach (a lost, refused or stalled
 * connection, a server shutting down or restarting), not that a statement was wrong. Known here
 * only: the rest of the ledger sees StoreUnavailable (a 503 with Retry-After, an outage the
 * projection runner waits out) and never a SQLSTATE or a driver's message.
 */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);
/** SQLSTATEs: connection exceptions (class 08), shutdowns (57P01–57P03), too many connections (53300). */
const SQLSTATES = /^(08...|57P0[123]|53300)$/;
/**
 * node-postgres's own time-outs and refusals carry no code: a statement not answered within
 * query_timeout, no free client of a pool within connectionTimeoutMillis, a connection that broke
 * or closed under a query. Known by their messages (pg 8, pg-pool 3).
 */
const PG_TIMEOUTS = new Set(['Query read timeout', 'timeout exceeded when trying to connect']);
const MESSAGES = /Connection terminated|connection timeout|Client has encountered a connection error|not queryable/i;

/** The ledger's error for a driver's error: StoreUnavailable for an outage, the error itself otherwise. */
export function fromPg(error: unknown): unknown {
  if (!(error instanceof Error) || error instanceof StoreUnavailable) return error;
  const { code } = error as Error & { code?: unknown };
  if (typeof code === 'string' && (NETWORK_CODES.has(code) || SQLSTATES.test(code))) {
    return new StoreUnavailable(code, error);
  }
  if (PG_TIMEOUTS.has(error.message) || MESSAGES.test(error.message)) return new StoreUnavailable(undefined, error);
  return error;
}
