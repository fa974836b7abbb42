import { createHmac, timingSafeEqual } from 'node:crypto';
import type { MasterKey } from './master-key.js';

/** Bytes of the HMAC kept: 128 bits, beyond any forgery by trial. */
const PROOF_BYTES = 16;

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

  constructor(masterKey: MasterKey) {
    this.key = masterKey.deriveKey('read model row proof v1');
    this.masterKeyId = masterKey.id;
  }

  prove(message: string): string {
    return this.mac(message).toString('base64url');
  }

  /** Constant time: a proof is a secret-keyed value, compared as such. */
  holds(message: string, proof: string | null): boolean {
    if (proof === null) return false;
    const given = Buffer.from(proof, 'base64url');
    return given.length === PROOF_BYTES && timingSafeEqual(given, this.mac(message));
  }

  private mac(message: string): Buffer {
    return createHmac('sha256', this.key).update(message).digest().subarray(0, PROOF_BYTES);
  }
}
