import {
  checkpointSignedBy,
  MerkleAccumulator,
  type CheckpointSigner,
  type SignedCheckpoint,
} from '../crypto/log-checkpoint.js';
import { chainHash } from '../crypto/hash-chain.js';
import { pagesAfter } from '../store/pages.js';
import { AUDIT_CHECKPOINTS_STREAM } from '../domain/streams.js';
import { appendSealed } from './append-sealed.js';
import type { LedgerContext } from './ledger-context.js';

type AuditContext = Pick<LedgerContext, 'store' | 'now'>;

/**
 * The tree hash of the log's records in position order, up to `until` (all when absent). Each
 * record's hash is computed again from its stored fields, not read from its `hash` column: a
 * changed byte anywhere in what the chain covers (a ciphertext, a date, an id) changes the root,
 * even when whoever changed it left the stored hash as it was.
 */
async function treeOf({ store }: Pick<LedgerContext, 'store'>, until = Number.MAX_SAFE_INTEGER) {
  const tree = new MerkleAccumulator();
  for await (const page of pagesAfter((after, limit) => store.readAll({ after, limit }), 0, 5000)) {
    for (const record of page) {
      if (record.position > until) return tree;
      tree.add(record.position, chainHash(record));
    }
  }
  return tree;
}

/** A signed checkpoint of the whole log as it is now: what an auditor keeps outside the ledger. */
export async function auditCheckpoint(
  context: AuditContext & { checkpointSigner: CheckpointSigner },
): Promise<SignedCheckpoint> {
  const tree = await treeOf(context);
  return context.checkpointSigner.sign({
    position: tree.last,
    size: tree.size,
    rootHash: tree.root(),
    time: context.now().toISOString(),
  });
}

export interface CheckpointVerification {
  ok: boolean;
  /** The signature is the ledger key's (the public key the auditor holds). */
  signed: boolean;
  /** The records up to the checkpoint's position still hash to its root, and are as many. */
  extends: boolean;
  position: number;
  size: number;
  found: { size: number; rootHash: string };
}

/**
 * Whether the log still extends a checkpoint: nothing up to its position was removed, inserted,
 * reordered or changed (the same records hash to the same root), and the checkpoint is signed by
 * the key whose public half the auditor holds.
 */
export async function verifyAgainstCheckpoint(
  context: Pick<LedgerContext, 'store'>,
  checkpoint: SignedCheckpoint,
  publicKeyPem: string,
): Promise<CheckpointVerification> {
  const signed = checkpointSignedBy(checkpoint, publicKeyPem);
  const tree = await treeOf(context, checkpoint.position);
  const found = { size: tree.size, rootHash: tree.root() };
  const extended = tree.covers(checkpoint);
  return {
    ok: signed && extended,
    signed,
    extends: extended,
    position: checkpoint.position,
    size: checkpoint.size,
    found,
  };
}

/**
 * Records a signed checkpoint in the log itself (`AuditCheckpointRecorded`): the log then carries
 * its own signed history, which a later verification can hold it to, even without a copy kept
 * outside. It covers the records before it.
 */
export async function recordCheckpoint(
  context: LedgerContext & { checkpointSigner: CheckpointSigner },
): Promise<SignedCheckpoint> {
  const checkpoint = await auditCheckpoint(context);
  await appendSealed(context, [
    {
      id: context.newId(),
      type: 'AuditCheckpointRecorded',
      stream: AUDIT_CHECKPOINTS_STREAM,
      organizationId: '',
      occurredAt: checkpoint.time,
      data: { ...checkpoint },
    },
  ]);
  return checkpoint;
}
