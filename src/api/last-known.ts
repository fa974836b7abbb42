import { StoreUnavailable } from '../domain/errors.js';

const LATE = Symbol('late');

/** What a read gave within its bound, or, when the database did not answer in time, what it last gave. */
export type WithinBound<T> = { fresh: true; value: T } | { fresh: false; last: { value: T; at: Date } | null };

/**
 * Bounds a read of the database for an answer that must come quickly (/health): one read at a
 * time, shared by the callers meanwhile (a stalled database does not pile up reads), waited for
 * at most `waitMs`. A read out of reach or too slow gives the last value read instead; any other
 * failure is thrown (a bug is not hidden).
 */
export function lastKnownWithin<T>(read: () => Promise<T>, waitMs: number): () => Promise<WithinBound<T>> {
  let last: { value: T; at: Date } | null = null;
  let pending: Promise<T> | null = null;
  return async () => {
    pending ??= read()
      .then((value) => {
        last = { value, at: new Date() };
        return value;
      })
      .finally(() => (pending = null));
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<typeof LATE>((resolve) => (timer = setTimeout(() => resolve(LATE), waitMs)));
    try {
      const outcome = await Promise.race([pending, late]);
      return outcome === LATE ? { fresh: false, last } : { fresh: true, value: outcome };
    } catch (error) {
      if (!(error instanceof StoreUnavailable)) throw error;
      return { fresh: false, last };
    } finally {
      clearTimeout(timer);
    }
  };
}
