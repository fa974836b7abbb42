import type { ErrorRequestHandler, Response } from 'express';
import {
  LedgerError,
  PayloadTooLarge,
  ReadModelsNotReady,
  StoreUnavailable,
  TooManyRequests,
  ValidationError,
} from '../domain/errors.js';
import { PROBLEM_TYPES } from '../domain/problem-types.js';
import type { Logger } from '../log.js';

/** What a 503 asks the client to wait, in seconds: about the time the runner waits before its first retry. */
export const RETRY_AFTER_SECONDS = 5;

/** RFC 9457 problem document; `type` is one of PROBLEM_TYPES, what a client switches on. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  [member: string]: unknown;
}

export function problemOf(error: LedgerError): Problem {
  return {
    type: error.type,
    title: error.title,
    status: error.status,
    detail: error.message,
    ...error.details,
  };
}

export function sendProblem(res: Response, problem: Problem): void {
  res.status(problem.status).type('application/problem+json').send(JSON.stringify(problem));
}

/** body-parser's own errors, mapped into our family; their messages may quote the body, so never reuse them. */
function fromBodyParser(error: { type?: string; status?: number; code?: unknown }): LedgerError | null {
  // A gzip, deflate or brotli body that does not inflate fails in zlib (Z_… codes; brotli ERR__…),
  // before body-parser's own checks.
  if (typeof error.code === 'string' && /^(Z_|ERR__)/.test(error.code)) {
    return new ValidationError('the request body does not decompress as its Content-Encoding says', [
      { pointer: '', message: 'corrupt compressed body' },
    ]);
  }
  switch (error.type) {
    case 'entity.too.large':
      return new PayloadTooLarge('the request body is larger than the configured limit (LEDGER_MAX_BODY)');
    case 'entity.parse.failed':
      return new ValidationError('the request body is not valid JSON', [{ pointer: '', message: 'malformed JSON' }]);
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new ValidationError('unsupported body encoding; send UTF-8 JSON');
    default:
      return null;
  }
}

/** The one place that turns errors into problem+json. Unexpected errors are logged by name only. */
export function problemHandler(log: Logger): ErrorRequestHandler {
  return (error, req, res, _next) => {
    // A stream already under way (NDJSON) cannot turn into a problem: it is cut, and the client sees it end early.
    if (res.headersSent) {
      log.error({ err: { name: (error as Error).name }, route: req.route?.path }, 'failed while streaming');
      return void res.destroy();
    }
    const known = error instanceof LedgerError ? error : fromBodyParser(error as { type?: string; code?: unknown });
    if (known) {
      if (known.status === 401) res.set('WWW-Authenticate', 'Bearer');
      if (known instanceof TooManyRequests) res.set('Retry-After', String(known.retryAfterSeconds));
      if (known instanceof StoreUnavailable) {
        // An outage, not a bug: the client retries (event ids make a retried append idempotent).
        // Its name and code only: the driver's message may quote a statement's values.
        const cause = known.cause as { name?: unknown } | undefined;
        log.warn({ err: { name: cause?.name, code: known.code } }, 'database unavailable');
        res.set('Retry-After', String(RETRY_AFTER_SECONDS));
      } else if (known instanceof ReadModelsNotReady) res.set('Retry-After', String(RETRY_AFTER_SECONDS));
      else if (known.status >= 500)
        log.error({ err: { name: known.name, message: known.message }, route: req.route?.path }, 'integrity failure');
      return sendProblem(res, problemOf(known));
    }
    log.error({ err: { name: (error as Error).name, stack: (error as Error).stack } }, 'unexpected error');
    sendProblem(res, {
      type: PROBLEM_TYPES.internalError,
      title: 'Internal error',
      status: 500,
      detail: 'unexpected error; see the server log',
    });
  };
}
