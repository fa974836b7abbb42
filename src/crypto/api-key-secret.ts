import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * API key secrets: `cl_<keyId>_<secret>`, the secret 256 random bits. Only its SHA-256 is kept (a
 * random 256-bit secret needs no slow hash: there is nothing to guess), and it is compared in
 * constant time.
 */
const TOKEN = /^cl_(K-[0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;

export const hashSecret = (secret: string): string => createHash('sha256').update(secret).digest('hex');

export function newApiKeySecret(): { keyId: string; token: string; secretHash: string } {
  const keyId = `K-${randomBytes(6).toString('hex')}`;
  const secret = randomBytes(32).toString('base64url');
  return { keyId, token: `cl_${keyId}_${secret}`, secretHash: hashSecret(secret) };
}

/** The key id and secret of a token, or null when it is not one of ours. */
export function parseToken(token: string): { keyId: string; secret: string } | null {
  const match = TOKEN.exec(token);
  return match ? { keyId: match[1]!, secret: match[2]! } : null;
}

export function secretMatches(secret: string, secretHash: string): boolean {
  const expected = Buffer.from(secretHash, 'hex');
  const actual = Buffer.from(hashSecret(secret), 'hex');
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}
