import { ChainVerifier } from '../crypto/hash-chain.js';
import { pagesAfter } from '../store/pages.js';
import type { LedgerContext } from './ledger-context.js';

/** Verifies one stream's hash chain, or every stream's by reading the whole log in order. */
export async function verifyChains(
  { store }: Pick<LedgerContext, 'store'>,
  stream?: string,
  onProgress: (events: number) => void = () => {},
) {
  const verifier = new ChainVerifier();
  if (stream) {
    for (const event of await store.readStream(stream)) verifier.check(event);
    return verifier.report();
  }
  for await (const page of pagesAfter((after, limit) => store.readAll({ after, limit }), 0, 5000)) {
    for (const event of page) verifier.check(event);
    onProgress(verifier.events);
  }
  return verifier.report();
}
