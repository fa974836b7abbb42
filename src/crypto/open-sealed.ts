import { IntegrityError } from '../domain/errors.js';
import type { KeyStore } from './key-store.js';
import { open, type SealedPart } from './seal.js';

/**
 * Opens a sealed part: its personal fields, or the forgetting event that destroyed its key. A
 * missing key (no tombstone) or a part that fails to open is an IntegrityError, never silence.
 */
export async function openSealed(
  sealed: SealedPart,
  eventId: string,
  keyStore: KeyStore,
): Promise<{ personal: Record<string, unknown> } | { erasedBy: string | null }> {
  const lookup = await keyStore.keyById(sealed.keyId);
  switch (lookup.status) {
    case 'open':
      return { personal: open(sealed, eventId, lookup.key) };
    case 'erased':
      return { erasedBy: lookup.tombstone.eventId };
    case 'missing':
      throw new IntegrityError(`key ${sealed.keyId} of event ${eventId} is missing and was never shredded`, {
        eventId,
      });
  }
}
