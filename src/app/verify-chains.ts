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
    return { ...verifier.report(), gaps: [] };
  }
  // Where positions are dense, a position missing between two records is a record removed.
  const gaps: Array<{ from: number; to: number }> = [];
  let previous = 0;
  for await (const page of pagesAfter((after, limit) => store.readAll({ after, limit }), 0, 5000)) {
    for (const event of page) {
      verifier.check(event);
      if (store.densePositions && event.position !== previous + 1) {
        gaps.push({ from: previous + 1, to: event.position - 1 });
      }
      previous = event.position;
    }
    onProgress(verifier.events);
  }
  const report = verifier.report();
  return { ...report, ok: report.ok && gaps.length === 0, gaps };
}
