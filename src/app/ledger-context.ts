import type { KeyStore } from '../crypto/key-store.js';
import type { EventStore } from '../store/event-store.js';

/** What every use case runs on: the ports, a clock and an id source (rules take both as arguments). */
export interface LedgerContext {
  store: EventStore;
  keys: KeyStore;
  now: () => Date;
  newId: () => string;
}
