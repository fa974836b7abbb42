import type { RequestHandler, Response } from 'express';
import { TooManyRequests } from '../domain/errors.js';

/**
 * Bounds on the auditors' replays (GET /v1/audit/events), which stream the whole log: each one in
 * progress holds a page of records while its reader takes them, so a reader that pauses, or many
 * at once, must not hold the server's memory. Beyond `concurrent` replays, a 429; a reader that
 * takes nothing for `stalledMs` is cut off and its page released.
 */
export interface ReplayBounds {
  concurrent: number;
  stalledMs: number;
}

export const REPLAY_BOUNDS: ReplayBounds = { concurrent: 8, stalledMs: 30_000 };

/** Seconds a replay refused for the limit is told to wait: a replay of a large log takes a while. */
const RETRY_AFTER_SECONDS = 10;

/** At most `concurrent` replays in progress in this process; the next is a 429 with Retry-After. */
export function replayLimit({ concurrent }: ReplayBounds): RequestHandler {
  let inProgress = 0;
  return (_req, res, next) => {
    if (inProgress >= concurrent) {
      throw new TooManyRequests(RETRY_AFTER_SECONDS, `${concurrent} replays are in progress`);
    }
    inProgress += 1;
    res.once('close', () => (inProgress -= 1));
    next();
  };
}

/**
 * Writes a chunk of the stream; when the socket's buffer is full, waits until the reader takes it,
 * at most `stalledMs`: then the connection is destroyed (the reader sees the stream cut short).
 * Resolves false when the stream is over for the reader (closed or cut off).
 */
export async function writeToReader(res: Response, chunk: string, stalledMs: number): Promise<boolean> {
  if (res.destroyed) return false;
  if (res.write(chunk)) return true;
  return new Promise<boolean>((resolve) => {
    const done = (taken: boolean) => {
      clearTimeout(timer);
      res.off('drain', drained).off('close', closed);
      resolve(taken);
    };
    const drained = () => done(true);
    const closed = () => done(false);
    const timer = setTimeout(() => {
      res.destroy();
      done(false);
    }, stalledMs);
    res.once('drain', drained).once('close', closed);
  });
}
