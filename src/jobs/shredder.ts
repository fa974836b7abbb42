import type { Subscription } from 'rxjs';
import { FORGETTING_TYPES } from '../domain/catalog.js';
import { destroyedScopes, isForgettingEvent } from '../domain/forgetting.js';
import type { KeyStore } from '../crypto/key-store.js';
import type { EventStore, StoredEvent } from '../store/event-store.js';
import { pagesAfter } from '../store/pages.js';

const SHREDS_IN_FLIGHT = 256;

/**
 * Crypto-shredding follows the log: a forgetting event is appended first, then the shredder
 * destroys the keys it names. Idempotent, so the start-up pass can redo every forgetting in the
 * log: after a crash between append and shred, or after restoring an older keys.db backup.
 */
export class Shredder {
  constructor(
    private readonly store: EventStore,
    private readonly keys: KeyStore,
  ) {}

  /** Destroys the keys a forgetting event names; returns how many keys were destroyed now. */
  async shredFor(event: Pick<StoredEvent, 'id' | 'type' | 'stream' | 'data'>): Promise<number> {
    if (!isForgettingEvent(event)) return 0;
    return this.keys.shred(destroyedScopes(event), { reason: event.type, eventId: event.id });
  }

  /**
   * Destroys the keys many forgetting events name (a batch run's), a group at a time so that the
   * key store commits them together; returns how many keys were destroyed now.
   */
  async shredAll(events: ReadonlyArray<Pick<StoredEvent, 'id' | 'type' | 'stream' | 'data'>>): Promise<number> {
    let destroyed = 0;
    for (let i = 0; i < events.length; i += SHREDS_IN_FLIGHT) {
      const counts = await Promise.all(events.slice(i, i + SHREDS_IN_FLIGHT).map((event) => this.shredFor(event)));
      destroyed += counts.reduce((sum, count) => sum + count, 0);
    }
    return destroyed;
  }

  /** Start-up pass: every forgotten scope whose key still exists is shredded. */
  async reconcile(): Promise<{ forgettingEvents: number; keysDestroyed: number }> {
    let forgettingEvents = 0;
    let keysDestroyed = 0;
    for await (const page of pagesAfter(
      (after, limit) => this.store.readByTypes(FORGETTING_TYPES, { after, limit }),
      0,
      500,
    )) {
      for (const event of page) keysDestroyed += await this.shredFor(event);
      forgettingEvents += page.length;
    }
    return { forgettingEvents, keysDestroyed };
  }

  /**
   * Live reaction: shreds (or, when another process already did, evicts from this process's
   * cache) as soon as a forgetting event is appended anywhere. It reads only forgetting events.
   */
  follow(after: number, onError: (error: unknown) => void): Subscription {
    return this.store.subscribe({ after, types: FORGETTING_TYPES }).subscribe({
      next: (event) => this.shredFor(event).catch(onError),
      error: onError,
    });
  }
}
