import { decrypt, encrypt } from './aead.js';
import { IntegrityError } from '../domain/errors.js';

/** A data key opened in memory; `scope` is `contact:<id>` or `order:<orderId>`. */
export interface DataKey {
  keyId: string;
  scope: string;
  key: Buffer;
}

/**
 * The sealed part of a stored event. `fields` names the personal fields it holds (names only,
 * never values) so that a timeline can say exactly which fields were erased after a shred.
 */
export interface SealedPart {
  keyId: string;
  iv: string;
  tag: string;
  ciphertext: string;
  fields: string[];
}

/** Additional data binds the ciphertext to its event and key: a sealed part cannot be moved. */
const additionalData = (eventId: string, keyId: string) => Buffer.from(`${eventId}\n${keyId}`, 'utf8');

export function seal(personal: Record<string, unknown>, eventId: string, key: DataKey): SealedPart {
  const box = encrypt(key.key, Buffer.from(JSON.stringify(personal), 'utf8'), additionalData(eventId, key.keyId));
  return {
    keyId: key.keyId,
    iv: box.iv.toString('base64'),
    tag: box.tag.toString('base64'),
    ciphertext: box.ciphertext.toString('base64'),
    fields: Object.keys(personal).sort(),
  };
}

export function open(sealed: SealedPart, eventId: string, key: DataKey): Record<string, unknown> {
  try {
    const plaintext = decrypt(
      key.key,
      {
        iv: Buffer.from(sealed.iv, 'base64'),
        tag: Buffer.from(sealed.tag, 'base64'),
        ciphertext: Buffer.from(sealed.ciphertext, 'base64'),
      },
      additionalData(eventId, sealed.keyId),
    );
    return JSON.parse(plaintext.toString('utf8')) as Record<string, unknown>;
  } catch {
    throw new IntegrityError(`sealed part of event ${eventId} failed to open (tampered data or wrong key)`, {
      eventId,
    });
  }
}
