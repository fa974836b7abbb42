import {
  CHECKPOINT_VERSION,
  checkpointSignedBy,
  MerkleAccumulator,
  type CheckpointedRecord,
  type CheckpointSigner,
  type CheckpointVersion,
  type SignedCheckpoint,
} from '../crypto/log-checkpoint.js';
import { InclusionProver, type InclusionProof } from '../crypto/inclusion-proof.js';
import { chainHash, LogChainVerifier, type LogBreak } from '../crypto/hash-chain.js';
import { pagesAfter } from '../store/pages.js';
import { AUDIT_CHECKPOINTS_STREAM } from '../domain/streams.js';
import { appendSealed } from './append-sealed.js';
import type { LedgerContext } from './ledger-context.js';

type AuditContext = Pick<LedgerContext, 'store' | 'now'>;

const MAX_CHANGED = 100;

interface TreeOptions {
  until?: number;
  version?: CheckpointVersion;
  locate?: boolean;
  /** The positions of records to build the inclusion proofs of, on the way. */
  prove?: ReadonlySet<number>;
}

/**
 * The tree hash of the log's records in position order, up to `until` (all when absent), with
 * `version`'s leaves. Each record's hash is computed again from its stored fields, not read from
 * its `hash` column: a changed byte anywhere in what the chain covers (a ciphertext, a date, an
 * id) changes the root, even when whoever changed it left the stored hash as it was. With
 * `locate`, each record that no longer matches its own chains (its hash, its link in the global
 * chain) is named on the way: what locates an edit that left the chains as they were, which a root
 * cannot (a verification's concern; a checkpoint being signed skips it).
 */
async function treeOf(
  { store }: Pick<LedgerContext, 'store'>,
  {
    until = Number.MAX_SAFE_INTEGER,
    version = CHECKPOINT_VERSION,
    locate = false,
    prove = new Set(),
  }: TreeOptions = {},
) {
  const tree = new MerkleAccumulator(version);
  const log = new LogChainVerifier();
  const changed: LogBreak[] = [];
  const proved = new Map<number, { prover: InclusionProver; leaf: CheckpointedRecord }>();
  const done = () => ({ tree, changed: [...changed, ...log.report().breaks], proved });
  for await (const page of pagesAfter((after, limit) => store.readAll({ after, limit }), 0, 5000)) {
    for (const record of page) {
      if (record.position > until) return done();
      const leaf = { position: record.position, hash: chainHash(record), recordedAt: record.recordedAt };
      if (prove.has(record.position)) proved.set(record.position, { prover: new InclusionProver(tree), leaf });
      tree.add(leaf);
      for (const { prover } of proved.values()) prover.add(leaf);
      const { hash } = leaf;
      if (!locate) continue;
      if (hash !== record.hash && changed.length < MAX_CHANGED) {
        const { position, stream, revision } = record;
        changed.push({ position, stream, revision, reason: 'hash does not match the record (altered)' });
      }
      log.check(record);
    }
  }
  return done();
}

type SigningContext = AuditContext & { checkpointSigner: CheckpointSigner };

const signTree = (context: SigningContext, tree: MerkleAccumulator): SignedCheckpoint =>
  context.checkpointSigner.sign({
    version: tree.version,
    position: tree.last,
    size: tree.size,
    rootHash: tree.root(),
    time: context.now().toISOString(),
  });

/** A signed checkpoint of the whole log as it is now: what an auditor keeps outside the ledger. */
export async function auditCheckpoint(context: SigningContext): Promise<SignedCheckpoint> {
  return signTree(context, (await treeOf(context)).tree);
}

/** A record's leaf (position, chain hash computed again from its stored fields, recordedAt) and its proof. */
export type ProvedRecord = CheckpointedRecord & { inclusion: InclusionProof };

/**
 * A signed checkpoint of the whole log as it is now, with the inclusion proofs of the records at
 * `positions`: what proves those records are in the log without the rest of it. A position
 * where no record is has none.
 */
export async function checkpointProving(
  context: SigningContext,
  positions: Iterable<number>,
): Promise<{ checkpoint: SignedCheckpoint; proved: Map<number, ProvedRecord> }> {
  const { tree, proved } = await treeOf(context, { prove: new Set(positions) });
  const records = [...proved].map(([position, { prover, leaf }]): [number, ProvedRecord] => [
    position,
    { ...leaf, inclusion: prover.proof() },
  ]);
  return { checkpoint: signTree(context, tree), proved: new Map(records) };
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
  /**
   * Records up to its position that no longer match their own chains, by position (at most 100 of
   * each kind): where the log was changed, unless the chains were computed again.
   */
  changed: LogBreak[];
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
  const known = checkpoint.version === 1 || checkpoint.version === 2;
  const { tree, changed } = await treeOf(context, {
    until: checkpoint.position,
    version: known ? checkpoint.version : CHECKPOINT_VERSION,
    locate: true,
  });
  const found = { size: tree.size, rootHash: tree.root() };
  const extended = known && tree.covers(checkpoint);
  changed.sort((a, b) => a.position - b.position);
  return {
    ok: signed && extended,
    signed,
    extends: extended,
    position: checkpoint.position,
    size: checkpoint.size,
    found,
    changed,
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
