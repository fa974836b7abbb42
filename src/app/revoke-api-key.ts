import { API_KEYS_STREAM, decideRevoke } from '../domain/api-keys.js';
import { apiKeysOf } from './api-key-log.js';
import { handleCommand } from './handle-command.js';
import type { LedgerContext } from './ledger-context.js';

/** Revokes an API key: it stops working at once on every node (each request reads the stream). */
export async function revokeApiKey(context: LedgerContext, keyId: string): Promise<{ revoked: boolean }> {
  const { appended } = await handleCommand(context, API_KEYS_STREAM, {
    state: async (stored) => apiKeysOf(stored),
    decide: (state) => ({
      events: decideRevoke(state, keyId).map((data) => ({
        type: 'ApiKeyRevoked',
        stream: API_KEYS_STREAM,
        organizationId: '',
        data,
      })),
      result: null,
    }),
  });
  return { revoked: appended.length > 0 };
}
