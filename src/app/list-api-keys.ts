import type { ApiKeyRecord } from '../domain/api-keys.js';
import { readApiKeys } from './api-key-log.js';
import type { LedgerContext } from './ledger-context.js';

/** Every key issued, revoked ones included, without their hashes. */
export async function listApiKeys(
  context: Pick<LedgerContext, 'store'>,
): Promise<Array<Omit<ApiKeyRecord, 'secretHash'>>> {
  const keys = await readApiKeys(context.store);
  return [...keys.values()].map(({ secretHash: _secretHash, ...key }) => key);
}
