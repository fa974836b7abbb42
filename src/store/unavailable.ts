/**
 * Whether an error says the database is out of reach (a lost, refused or stalled connection, a
 * server shutting down or restarting), not that a request was wrong: an outage, answered 503 with
 * Retry-After, and waited out by the projection runner. Appends are transactions, so nothing
 * partial was written; a retry with the same event ids is idempotent.
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
/** PostgreSQL SQLSTATEs: connection exceptions (class 08), shutdowns (57P01–57P03), too many connections. */
const POSTGRES_CODES = /^(08...|57P0[123]|53300)$/;
/**
 * node-postgres's own time-outs carry no code: a statement not answered within query_timeout, no
 * free client of a pool within connectionTimeoutMillis. Known by their exact messages (pg 8).
 */
const PG_TIMEOUTS = new Set(['Query read timeout', 'timeout exceeded when trying to connect']);
const MESSAGES = /Connection terminated|connection timeout|Client has encountered a connection error|not queryable/i;

export function isStoreUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const { code, type } = error as Error & { code?: unknown; type?: unknown };
  if (typeof code === 'string' && (NETWORK_CODES.has(code) || POSTGRES_CODES.test(code))) return true;
  // @eventstore/db-client: a lost or refused gRPC channel.
  if (type === 'unavailable' || type === 'deadline-exceeded' || error.name === 'UnavailableError') return true;
  return PG_TIMEOUTS.has(error.message) || MESSAGES.test(error.message);
}

/**
 * Runs a long-lived reader (the projection runner, the shredder reaction) and starts it again
 * when it fails because the database is out of reach: after a pause, doubling up to `maxDelayMs`,
 * back to `firstDelayMs` once a start has lasted. Every failure is reported; any other failure
 * stops it for good (a bug is not waited out).
 */
export function restartOnOutage(
  start: (onError: (error: unknown) => void) => { stop(): void },
  onError: (error: unknown) => void,
  { firstDelayMs = 500, maxDelayMs = 5_000 } = {},
): { stop(): void } {
  let running: { stop(): void } | null = null;
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;
  let delay = firstDelayMs;
  let startedAt = 0;
  const launch = () => {
    if (stopped) return;
    startedAt = Date.now();
    let failed = false;
    running = start((error) => {
      onError(error);
      if (failed || stopped || !isStoreUnavailable(error)) return;
      failed = true;
      running?.stop();
      if (Date.now() - startedAt > maxDelayMs) delay = firstDelayMs;
      timer = setTimeout(launch, delay);
      delay = Math.min(delay * 2, maxDelayMs);
    });
  };
  launch();
  return {
    stop: () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      running?.stop();
    },
  };
}
