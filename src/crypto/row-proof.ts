import { createHmac, timingSafeEqual } from 'node:crypto';
import { CallThread, startWorker } from '../worker-thread.js';
import type { MasterKey } from './master-key.js';

/** Bytes of the HMAC kept: 128 bits, beyond any forgery by trial. */
const PROOF_BYTES = 16;

const mac = (key: Uint8Array, message: string): Buffer =>
  createHmac('sha256', key).update(message).digest().subarray(0, PROOF_BYTES);

/** Constant time: a proof is a secret-keyed value, compared as such. */
export function proofHolds(key: Uint8Array, message: string, proof: string | null): boolean {
  if (proof === null) return false;
  const given = Buffer.from(proof, 'base64url');
  return given.length === PROOF_BYTES && timingSafeEqual(given, mac(key, message));
}

/** A page of proofs to check: each message with the proof its row holds. */
export interface ProofChecks {
  messages: string[];
  proofs: Array<string | null>;
}

/**
 * Proofs that a read-model row was written by the ledger (HMAC-SHA256 under a key derived from
 * the master key, truncated to 128 bits). state.db is a file anyone with the disk can edit; a row
 * edited, or copied from another contact, fails its proof. A row restored from an older copy
 * keeps a valid proof: it names the log position it was folded up to, which the reader compares
 * with the log's. A new master key means new proofs:
 * the runner rebuilds read models keyed by another master key.
 */
export class RowProofs {
  private readonly key: Buffer;
  /**
   * The master key the read models are keyed by (these proofs, and the e-mail blind index), recorded
   * with their checkpoint: read models keyed by another (a rotation since) are rebuilt at start.
   */
  readonly masterKeyId: string;
  /** Checks pages of proofs on a thread of its own, beside the thread that reads the next page. */
  private readonly checker: CallThread<ProofChecks, Uint8Array>;

  constructor(masterKey: MasterKey) {
    this.key = masterKey.deriveKey('read model row proof v1');
    this.masterKeyId = masterKey.id;
    this.checker = new CallThread(
      () => startWorker(import.meta.url, './row-proof-worker', { key: this.key }),
      'the row proof thread',
    );
  }

  prove(message: string): string {
    return mac(this.key, message).toString('base64url');
  }

  /**
   * Whether each proof holds (1) or not (0), checked on the proof thread: a batch's simulation
   * checks one per proposed row, about as long as reading the rows, which this thread reads meanwhile.
   */
  holdAll(checks: ProofChecks): Promise<Uint8Array> {
    return this.checker.call(checks);
  }

  close(): Promise<void> {
    return this.checker.close();
  }
}
