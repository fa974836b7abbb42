import { Observable, Subscription } from 'rxjs';
import type { EventStore, StoredEvent, SubscribeOptions } from './event-store.js';
import { pagesAfter } from './pages.js';

/**
 * Runs `pass` at once, then again on wake-ups, one pass at a time: wake-ups during a pass make one
 * more pass after it, not one each. The first failure stops the passes and goes to `onError`;
 * unsubscribing stops them too (`stopped` tells a pass under way).
 */
export function passesOnWakeUps(
  wakeUps: Observable<unknown>,
  pass: (stopped: () => boolean) => Promise<void>,
  onError: (error: unknown) => void,
): Subscription {
  const passes = new Subscription();
  const stopped = () => passes.closed;
  let passing = false;
  let again = true;
  const run = async () => {
    if (passing) return;
    passing = true;
    try {
      while (again && !stopped()) {
        again = false;
        await pass(stopped);
      }
    } catch (error) {
      passes.unsubscribe();
      onError(error);
    } finally {
      passing = false;
    }
  };
  passes.add(
    wakeUps.subscribe(() => {
      again = true;
      void run();
    }),
  );
  void run();
  return passes;
}

/**
 * A catch-up subscription shared by every backend: read pages after the last delivered position
 * until a short page says we are at the head, then wait for a wake-up (a local append, a
 * notification, a poll tick) and read again. Pulling from the store after each wake-up, instead of
 * pushing appended events, keeps the order global and leaves no gap between catch-up and live.
 *
 * `headPosition`, for a filtered read: the head read before a pass, which the pass then skips to
 * (every event up to it was visible to the pass), so the next pass does not scan again the events
 * the filter left out.
 */
export function catchUpSubscription(
  readPage: (after: number, limit: number) => Promise<StoredEvent[]>,
  wakeUps: Observable<unknown>,
  after = 0,
  headPosition?: () => Promise<number>,
  pageSize = 1000,
): Observable<StoredEvent> {
  return new Observable<StoredEvent>((subscriber) => {
    let position = after;
    const passes = passesOnWakeUps(
      wakeUps,
      async () => {
        const head = headPosition ? await headPosition() : 0;
        for await (const page of pagesAfter(readPage, position, pageSize)) {
          for (const event of page) {
            if (subscriber.closed) return;
            position = event.position;
            subscriber.next(event);
          }
        }
        position = Math.max(position, head);
      },
      (error) => subscriber.error(error),
    );
    return () => passes.unsubscribe();
  });
}

/** A store's subscription: every event, or only those of `types` (read by the store's type index). */
export function subscribeTo(
  store: Pick<EventStore, 'readAll' | 'readByTypes' | 'headPosition' | 'wakeUps'>,
  { after = 0, types }: SubscribeOptions,
): Observable<StoredEvent> {
  const { wakeUps } = store;
  if (!types) return catchUpSubscription((from, limit) => store.readAll({ after: from, limit }), wakeUps, after);
  return catchUpSubscription(
    (from, limit) => store.readByTypes(types, { after: from, limit }),
    wakeUps,
    after,
    () => store.headPosition(),
  );
}
