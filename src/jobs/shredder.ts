import type { Subscription } from 'rxjs';
import { FORGETTING_TYPES } from '../domain/catalog.js';
import { destroyedScopes, isForgettingEvent } from '../domain/forgetting.js';
import type { KeyStore } from '../crypto/key-store.js';
import type { EventStore } from '../store/event-store.js';
import { pagesAfter } from '../store/pages.js';
import { eventOfEntry, type ForgetJournal, type ForgettingFact } from './forget-journal.js';

const SHREDS_IN_FLIGHT = 256;
/** How often the live reaction tries again the shreds it owes. */
const SHRED_RETRY_MS = 5_000;

/**
 * Crypto-shredding follows the log: a forgetting event is appended first, then the shredder
 * journals it (ForgetJournal) and destroys the keys it names. Idempotent, so the start-up pass can
 * redo every forgetting in the log, after a crash between append and shred, or after restoring an
 * older keys.db backup; and every forgetting in the journal, after restoring an older log.
 */
export class Shredder {
  constructor(
    private readonly store: EventStore,
    private readonly keys: KeyStore,
    private readonly journal: ForgetJournal,
  ) {}

  /** Destroys the keys a forgetting event names; returns how many keys were destroyed now. */
  shredFor(event: ForgettingFact): Promise<number> {
    return this.shredAll([event]);
  }

  /**
   * Destroys the keys many forgetting events name (a batch run's), a group at a time so that the
   * journal and the key store commit them together; returns how many keys were destroyed now.
   */
  async shredAll(events: readonly ForgettingFact[]): Promise<number> {
    const forgettings = events.filter(isForgettingEvent);
    let destroyed = 0;
    for (let i = 0; i < forgettings.length; i += SHREDS_IN_FLIGHT) {
      const group = forgettings.slice(i, i + SHREDS_IN_FLIGHT);
      await this.journal.record(group);
      destroyed += await this.keys.shredAll(
        group.map((event) => ({ scopes: destroyedScopes(event), cause: { reason: event.type, eventId: event.id } })),
      );
    }
    return destroyed;
  }

  /**
   * Start-up pass: every forgotten scope, of the log or of the journal, whose key still exists is
   * shredded; a forgetting of the journal that the log lacks (a log restored from before it) is
   * appended again, with its own id, so a second pass finds it a duplicate.
   */
  async reconcile(): Promise<{ forgettingEvents: number; keysDestroyed: number; reappended: number }> {
    const logged = new Set<string>();
    let keysDestroyed = 0;
    for await (const page of pagesAfter(
      (after, limit) => this.store.readByTypes(FORGETTING_TYPES, { after, limit }),
      0,
      500,
    )) {
      keysDestroyed += await this.shredAll(page);
      for (const event of page) logged.add(event.id);
    }
    const missing = this.journal.verifiedEntries((entry) => !logged.has(entry.eventId));
    let reappended = 0;
    for (let i = 0; i < missing.length; i += SHREDS_IN_FLIGHT) {
      const group = missing.slice(i, i + SHREDS_IN_FLIGHT);
      keysDestroyed += await this.keys.shredAll(
        group.map((entry) => ({ scopes: entry.scopes, cause: { reason: entry.type, eventId: entry.eventId } })),
      );
      reappended += (await this.store.append(group.map(eventOfEntry))).appended.length;
    }
    return { forgettingEvents: logged.size, keysDestroyed, reappended };
  }

  /**
   * Live reaction: shreds (or, when another process already did, evicts from this process's
   * cache) as soon as a forgetting event is appended anywhere. It reads only forgetting events.
   * A shred that fails (the journal cannot be written, the key store refuses) is reported, and
   * owed: tried again every `retryMs` until it is done, not left for the next start.
   */
  follow(after: number, onError: (error: unknown) => void, { retryMs = SHRED_RETRY_MS } = {}): Subscription {
    const owed = new Map<string, ForgettingFact>();
    let retry: NodeJS.Timeout | null = null;
    let stopped = false;
    const shred = (events: ForgettingFact[]) =>
      this.shredAll(events).catch((error: unknown) => {
        onError(error);
        if (stopped) return; // the next start's pass does it
        for (const event of events) owed.set(event.id, event);
        retry ??= setTimeout(() => {
          retry = null;
          const again = [...owed.values()];
          owed.clear();
          void shred(again);
        }, retryMs);
      });
    const subscription = this.store.subscribe({ after, types: FORGETTING_TYPES }).subscribe({
      next: (event) => void shred([event]),
      error: onError,
    });
    subscription.add(() => {
      stopped = true;
      if (retry) clearTimeout(retry);
      retry = null;
    });
    return subscription;
  }
}
