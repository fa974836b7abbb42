import { destination, pino, transport, type Logger } from 'pino';

/**
 * Structured logs on stderr (stdout stays for command output). Log ids, counts, types and
 * durations only: never a request body, a personal field or key material. JSON, unless stderr is
 * a terminal: then the same lines through pino-pretty, for a person to read.
 */
export function createLogger(level: string): Logger {
  const options = { level, base: null, redact: { paths: ['req.headers.authorization'], remove: true } };
  if (process.stderr.isTTY && level !== 'silent') {
    return pino(options, transport({ target: 'pino-pretty', options: { destination: 2, translateTime: true } }));
  }
  return pino(options, destination(2));
}
export type { Logger };
