import { destination, pino, type Logger } from 'pino';

/**
 * Structured logs on stderr (stdout stays for command output). Log ids, counts, types and
 * durations only: never a request body, a personal field or key material.
 */
export function createLogger(level: string): Logger {
  return pino({ level, base: null, redact: { paths: ['req.headers.authorization'], remove: true } }, destination(2));
}
export type { Logger };
