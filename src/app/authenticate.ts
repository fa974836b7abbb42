import { mayUse, type Role } from '../domain/api-keys.js';
import { Forbidden, Unauthenticated } from '../domain/errors.js';
import { parseToken, secretMatches } from '../crypto/api-key-secret.js';
import { readApiKeys } from './api-key-log.js';
import type { LedgerContext } from './ledger-context.js';

/**
 * The key a request presents, checked against the log as it is now (no cache: a key issued or
 * revoked by another process works, or stops working, at once), then its role against the
 * route's. Unauthenticated (401) without a key or with a wrong or revoked one; Forbidden (403)
 * with the wrong role.
 */
export async function authenticate(
  context: Pick<LedgerContext, 'store'>,
  token: string | null,
  required: Role | 'any',
): Promise<{ keyId: string; role: Role; subscriber: string | null }> {
  const parsed = token === null ? null : parseToken(token);
  if (!parsed) throw new Unauthenticated();
  const key = (await readApiKeys(context.store)).get(parsed.keyId);
  if (!key || key.revokedAt !== null || !secretMatches(parsed.secret, key.secretHash)) throw new Unauthenticated();
  if (!mayUse(key.role, required)) {
    throw required === 'any'
      ? new Forbidden(key.role, required, 'a subscriber key acknowledges its erasures and reads nothing else')
      : new Forbidden(key.role, required);
  }
  return { keyId: key.keyId, role: key.role, subscriber: key.subscriber };
}
