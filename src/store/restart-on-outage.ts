import { StoreUnavailable } from '../domain/errors.js';

/**
 * Runs a long-lived reader (the projection runner, the shredder reaction) and starts it again
 * when it fails because the database is out of reach (StoreUnavailable, which each adapter maps its
 * driver's errors to): after a pause, doubling up to `maxDelayMs`,
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
      if (failed || stopped || !(error instanceof StoreUnavailable)) return;
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
