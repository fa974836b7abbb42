import { API_KEYS_STREAM, decideIssue, type Role } from '../domain/api-keys.js';
import { newApiKeySecret } from '../crypto/api-key-secret.js';
import { apiKeysOf } from './api-key-log.js';
import { handleCommand } from './handle-command.js';
import type { LedgerContext } from './ledger-context.js';

export interface IssuedApiKey {
  keyId: string;
  role: Role;
  /** The secret key, shown once: the ledger keeps only its hash. */
  token: string;
}

/**
 * Issues an API key with a role. `onlyIfNone`: the first start's admin key, issued only while the
 * stream is empty (two nodes starting together: one wins, the other's append conflicts).
 */
export async function issueApiKey(
  context: LedgerContext,
  command: { role: string; name?: string },
): Promise<IssuedApiKey> {
  const { keyId, token, secretHash } = newApiKeySecret();
  const { result } = await handleCommand(context, API_KEYS_STREAM, {
    state: async (stored) => apiKeysOf(stored),
    decide: (state) => {
      const [data] = decideIssue(state, { ...command, keyId, secretHash });
      return {
        events: [{ type: 'ApiKeyIssued', stream: API_KEYS_STREAM, organizationId: '', data: { ...data! } }],
        result: { keyId, role: data!.role, token },
      };
    },
  });
  return result;
}

/** The first start of a new ledger issues one admin key, or none when any key exists. */
export async function issueFirstAdminKey(context: LedgerContext): Promise<IssuedApiKey | null> {
  if ((await context.store.readStream(API_KEYS_STREAM)).length > 0) return null;
  return issueApiKey(context, { role: 'admin', name: 'first-admin' });
}
