import { ChainVerifier, LogChainVerifier } from '../crypto/hash-chain.js';
import { MerkleAccumulator, type CheckpointVersion, type SignedCheckpoint } from '../crypto/log-checkpoint.js';
import { pagesAfter } from '../store/pages.js';
import { AUDIT_CHECKPOINTS_STREAM } from '../domain/streams.js';
import type { LedgerContext } from './ledger-context.js';
import { UnknownStream } from '../domain/errors.js';

/** A checkpoint recorded in the log whose records no longer hash to its root: tampering at or before its position. */
export interface FailedCheckpoint {
  position: number;
  /** The last recorded checkpoint that still held: the tampering lies after it. */
  after: number;
}

/**
 * Verifies one stream's hash chain, or the whole log: every stream's chain, the global chain
 * (which finds a record removed, inserted or moved at its position), no position missing (where
 * positions are dense), and every checkpoint the log recorded (the records up to its position
 * still hash to its root: what holds even against an edit that recomputed the chains). A stream
 * with no event is refused (UnknownStream).
 */
export async function verifyChains(
  { store }: Pick<LedgerContext, 'store'>,
  stream?: string,
  onProgress: (events: number) => void = () => {},
) {
  const verifier = new ChainVerifier();
  if (stream) {
    const events = await store.readStream(stream);
    // Not an empty success: a mistyped name must not read as a verified stream.
    if (events.length === 0) throw new UnknownStream(stream);
    for (const event of events) verifier.check(event);
    return { ...verifier.report(), log: null, gaps: [], checkpoints: { verified: 0, failed: [] } };
  }
  const recorded = (await store.readStream(AUDIT_CHECKPOINTS_STREAM))
    .map((event) => event.data as unknown as SignedCheckpoint)
    .sort((a, b) => a.position - b.position);
  const log = new LogChainVerifier();
  // One tree per version of the recorded checkpoints (those recorded before version 2 have leaves of their own).
  const trees = new Map<CheckpointVersion, MerkleAccumulator>(
    [...new Set(recorded.map((checkpoint) => checkpoint.version))].map((version) => [
      version,
      new MerkleAccumulator(version),
    ]),
  );
  const failed: FailedCheckpoint[] = [];
  let verified = 0;
  let held = 0;
  let next = 0;
  const judge = (last: number) => {
    for (; next < recorded.length && recorded[next]!.position <= last; next++) {
      const checkpoint = recorded[next]!;
      if (checkpoint.position === last && trees.get(checkpoint.version)!.covers(checkpoint)) {
        verified++;
        held = checkpoint.position;
      } else failed.push({ position: checkpoint.position, after: held });
    }
  };
  // Where positions are dense, a position missing between two records is a record removed.
  const gaps: Array<{ from: number; to: number }> = [];
  let previous = 0;
  for await (const page of pagesAfter((after, limit) => store.readAll({ after, limit }), 0, 5000)) {
    for (const event of page) {
      verifier.check(event);
      log.check(event);
      if (store.densePositions && event.position !== previous + 1) {
        gaps.push({ from: previous + 1, to: event.position - 1 });
      }
      previous = event.position;
      for (const tree of trees.values()) tree.add(event);
      judge(event.position);
    }
    onProgress(verifier.events);
  }
  // A checkpoint past the last record: the records it covered are gone.
  for (; next < recorded.length; next++) failed.push({ position: recorded[next]!.position, after: held });
  const report = verifier.report();
  const chained = log.report();
  return {
    ...report,
    ok: report.ok && chained.breaks.length === 0 && gaps.length === 0 && failed.length === 0,
    log: chained,
    gaps,
    checkpoints: { verified, failed },
  };
}
