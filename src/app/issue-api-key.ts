import { API_KEYS_STREAM, decideIssue, type Role } from '../domain/api-keys.js';
import { newApiKeySecret } from '../crypto/api-key-secret.js';
import { apiKeysOf } from './api-key-log.js';
import { handleCommand } from './handle-command.js';
import { readSubscribers } from './subscribers.js';
import type { LedgerContext } from './ledger-context.js';

export interface IssuedApiKey {
  keyId: string;
  role: Role;
  /** The subscriber a subscriber key speaks for. */
  subscriber?: string;
  /** The secret key, shown once: the ledger keeps only its hash. */
  token: string;
}

/** Issues an API key with a role (a subscriber key: bound to a subscriber); its secret is returned this once. */
export async function issueApiKey(
  context: LedgerContext,
  command: { role: string; name?: string; subscriber?: string },
): Promise<IssuedApiKey> {
  return (await issue(context, command))!; // without onlyIfNone, a key is always issued
}

/**
 * The first start of a new ledger issues one admin key, or none when any key exists. Decided on
 * the stream read and appended at that revision: of two nodes starting together, one issues it and
 * the other's append conflicts.
 */
export const issueFirstAdminKey = (context: LedgerContext): Promise<IssuedApiKey | null> =>
  issue(context, { role: 'admin', name: 'first-admin', onlyIfNone: true });

async function issue(
  context: LedgerContext,
  command: { role: string; name?: string; subscriber?: string; onlyIfNone?: boolean },
): Promise<IssuedApiKey | null> {
  const { keyId, token, secretHash } = newApiKeySecret();
  const { result } = await handleCommand(context, API_KEYS_STREAM, {
    state: async (stored) => ({
      keys: apiKeysOf(stored),
      // The subscribers a subscriber key may name: those configured now.
      subscribers: new Set(command.subscriber === undefined ? [] : (await readSubscribers(context.store)).keys()),
    }),
    decide: ({ keys, subscribers }) => {
      const data = decideIssue(keys, { ...command, keyId, secretHash }, subscribers);
      if (!data) return { events: [], result: null };
      const { role, subscriber } = data;
      return {
        events: [{ type: 'ApiKeyIssued', stream: API_KEYS_STREAM, organizationId: '', data: { ...data } }],
        result: { keyId, role, ...(subscriber !== undefined ? { subscriber } : {}), token },
      };
    },
  });
  return result;
}
