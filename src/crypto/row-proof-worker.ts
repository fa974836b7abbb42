import { workerData } from 'node:worker_threads';
import { serveCalls } from '../worker-thread.js';
import { proofHolds, type ProofChecks } from './row-proof.js';

/** The row proof thread (see RowProofs.holdAll): its key is the proofs' own, derived from the master key. */
const { key } = workerData as { key: Uint8Array };

serveCalls<ProofChecks, Uint8Array>(
  async ({ messages, proofs }) =>
    Uint8Array.from(messages, (message, i) => (proofHolds(key, message, proofs[i]!) ? 1 : 0)),
  () => {},
);
