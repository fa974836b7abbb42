import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/** AES-256-GCM with a random 96-bit IV: the one primitive behind sealing and key wrapping. */
export interface AeadBox {
  iv: Buffer;
  tag: Buffer;
  ciphertext: Buffer;
}

const ALGORITHM = 'aes-256-gcm';
const IV_BYTES = 12;

// IVs and data keys are drawn from a pool filled by the CSPRNG: as random as one randomBytes call
// each, without its per-call cost (a third of a seal). A drained pool is replaced, never refilled
// in place, so bytes handed out are never reused.
const POOL_BYTES = 64 * 1024;
let pool = Buffer.alloc(0);
let poolOffset = 0;
export function pooledRandomBytes(size: number): Buffer {
  if (poolOffset + size > pool.length) {
    pool = randomBytes(POOL_BYTES);
    poolOffset = 0;
  }
  poolOffset += size;
  return pool.subarray(poolOffset - size, poolOffset);
}

export function encrypt(key: Buffer, plaintext: Buffer, additionalData: Buffer): AeadBox {
  const iv = pooledRandomBytes(IV_BYTES);
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
