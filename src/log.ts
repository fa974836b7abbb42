import { createRequire } from 'node:module';
import { destination, pino, transport, type Logger } from 'pino';

/**
 * Whether pino-pretty is installed. It is no dependency of the ledger: a machine that has it
 * (a developer's) gets readable logs on a terminal; without it, logs stay JSON everywhere.
 */
function prettyInstalled(): boolean {
  try {
    createRequire(import.meta.url).resolve('pino-pretty');
    return true;
  } catch {
    return false;
  }
}

/**
 * Structured logs on stderr (stdout stays for command output). Log ids, counts, types and
 * durations only: never a request body, a personal field or key material. JSON, unless stderr is
 * a terminal and pino-pretty is installed: then the same lines, for a person to read.
 */
export function createLogger(level: string): Logger {
  const options = { level, base: null, redact: { paths: ['req.headers.authorization'], remove: true } };
  if (process.stderr.isTTY && level !== 'silent' && prettyInstalled()) {
    return pino(options, transport({ target: 'pino-pretty', options: { destination: 2, translateTime: true } }));
  }
  return pino(options, destination(2));
}
export type { Logger };
