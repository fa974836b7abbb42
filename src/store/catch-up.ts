import { Observable } from 'rxjs';
import type { StoredEvent } from './event-store.js';
import { pagesAfter } from './pages.js';

/**
 * A catch-up subscription shared by every backend: read pages after the last delivered position
 * until a short page says we are at the head, then wait for a wake-up (a local append, a
 * notification, a poll tick) and read again. Pulling from the store after each wake-up, instead of
 * pushing appended events, keeps the order global and leaves no gap between catch-up and live.
 */
export function catchUpSubscription(
  readPage: (after: number, limit: number) => Promise<StoredEvent[]>,
  wakeUps: Observable<unknown>,
  after = 0,
  pageSize = 1000,
): Observable<StoredEvent> {
  return new Observable<StoredEvent>((subscriber) => {
    let position = after;
    let reading = false;
    let again = true;
    const drain = async () => {
      if (reading) return;
      reading = true;
      try {
        while (again && !subscriber.closed) {
          again = false;
          for await (const page of pagesAfter(readPage, position, pageSize)) {
            for (const event of page) {
              if (subscriber.closed) return;
              position = event.position;
              subscriber.next(event);
            }
          }
        }
      } catch (error) {
        subscriber.error(error);
      } finally {
        reading = false;
      }
    };
    const wakeUpSubscription = wakeUps.subscribe(() => {
      again = true;
      void drain();
    });
    void drain();
    return () => wakeUpSubscription.unsubscribe();
  });
}
