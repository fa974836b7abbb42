import { foldApiKeys, type ApiKeyEvent, type ApiKeysState } from '../domain/api-keys.js';
import type { StoredEvent } from '../store/event-store.js';

/** The api-keys stream folded: every key issued, with its role and whether it was revoked. */
export const apiKeysOf = (stored: readonly StoredEvent[]): ApiKeysState =>
  // Only the ledger writes this stream (publishers write contact streams): its events are ours.
  foldApiKeys(stored.map(({ type, occurredAt, data }) => ({ type, occurredAt, data }) as ApiKeyEvent));
