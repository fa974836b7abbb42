import { API_KEYS_STREAM, foldApiKeys, type ApiKeyEvent, type ApiKeysState } from '../domain/api-keys.js';
import type { EventStore, StoredEvent } from '../store/event-store.js';

/** The api-keys stream folded: every key issued, with its role and whether it was revoked. */
export const apiKeysOf = (stored: readonly StoredEvent[]): ApiKeysState =>
  // Only the ledger writes this stream (publishers write contact streams): its events are ours.
  foldApiKeys(stored.map(({ type, occurredAt, data }) => ({ type, occurredAt, data }) as ApiKeyEvent));

/** Every key as the log holds it now (no cache: a key issued or revoked elsewhere counts at once). */
export const readApiKeys = async (store: EventStore): Promise<ApiKeysState> =>
  apiKeysOf(await store.readStream(API_KEYS_STREAM));
