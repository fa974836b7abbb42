import { createHmac } from 'node:crypto';
import type { MasterKey } from './master-key.js';

/**
 * A keyed blind index: HMAC-SHA256 of a normalised e-mail address under a key derived from the
 * master key. state.db can look a contact up by e-mail without holding the address; without the
 * master key the hashes cannot be tested against a list of addresses. A new master key means a
 * new index: rebuild the projections after a rotation.
 */
export class BlindIndex {
  private readonly key: Buffer;

  constructor(masterKey: MasterKey) {
    this.key = masterKey.deriveKey('blind index e-mail v1');
  }

  /** Addresses compare case-insensitively and without surrounding spaces. */
  email(address: string): string {
    return createHmac('sha256', this.key).update(address.trim().toLowerCase()).digest('hex');
  }
}
