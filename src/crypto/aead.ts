import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/** AES-256-GCM with a random 96-bit IV: the one primitive behind sealing and key wrapping. */
export interface AeadBox {
  iv: Buffer;
  tag: Buffer;
  ciphertext: Buffer;
}

const ALGORITHM = 'aes-256-gcm';
const IV_BYTES = 12;

// IVs are drawn from a pool filled by the CSPRNG: as random as one randomBytes call per IV, without
// its per-call cost (a third of a seal). A drained pool is replaced, never refilled in place.
const IV_POOL_BYTES = IV_BYTES * 4096;
let ivPool = Buffer.alloc(0);
let ivOffset = 0;
function randomIv(): Buffer {
  if (ivOffset + IV_BYTES > ivPool.length) {
    ivPool = randomBytes(IV_POOL_BYTES);
    ivOffset = 0;
  }
  ivOffset += IV_BYTES;
  return ivPool.subarray(ivOffset - IV_BYTES, ivOffset);
}

export function encrypt(key: Buffer, plaintext: Buffer, additionalData: Buffer): AeadBox {
  const iv = randomIv();
  const cipher = createCipheriv(ALGORITHM, key, iv);
  cipher.setAAD(additionalData);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return { iv, tag: cipher.getAuthTag(), ciphertext };
}

/** Throws when the tag does not verify: tampered data, wrong key or wrong additional data. */
export function decrypt(key: Buffer, box: AeadBox, additionalData: Buffer): Buffer {
  const decipher = createDecipheriv(ALGORITHM, key, box.iv);
  decipher.setAAD(additionalData);
  decipher.setAuthTag(box.tag);
  return Buffer.concat([decipher.update(box.ciphertext), decipher.final()]);
}
