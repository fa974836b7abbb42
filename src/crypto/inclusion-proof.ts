import {
  leafHash,
  MerkleAccumulator,
  nodeHash,
  type CheckpointedRecord,
  type CheckpointVersion,
} from './log-checkpoint.js';

/**
 * RFC 9162 (§2.1.3) inclusion proofs in the checkpoint's tree: the sibling subtree hashes from one
 * leaf up to the root, with which anyone holding a signed checkpoint proves that a record is under
 * its root without the rest of the log. What an erasure certificate carries for its forgetting.
 */
export interface InclusionProof {
  /** The leaf's index in the tree: how many records come before it, in position order. */
  leafIndex: number;
  treeSize: number;
  /** The sibling subtree hashes, hex, from the leaf up. */
  path: string[];
}

/**
 * Builds the inclusion proof of one leaf while the tree's records stream by, in O(log n) memory.
 * The sibling at level l of leaf m is the aligned block of 2^l leaves whose index first differs from
 * m at bit l, cut at the tree's end (RFC 6962's tree splits at the largest power of two, so a block
 * cut short hashes as that range's own tree). Those left of m are the tree's perfect subtrees when
 * m comes; each leaf after m is fed to the accumulator of its block, so the tree's size need not be
 * known until the end.
 */
export class InclusionProver {
  private readonly leafIndex: number;
  private readonly siblings: Array<MerkleAccumulator | string> = [];
  private count: number;

  /** Starts at the leaf to prove, which `tree` (the records before it) is about to be given. */
  constructor(private readonly tree: Pick<MerkleAccumulator, 'size' | 'version' | 'subtrees'>) {
    this.leafIndex = tree.size;
    this.count = tree.size;
    for (const { size, hash } of tree.subtrees()) this.siblings[Math.log2(size)] = hash.toString('hex');
  }

  /** The next record of the tree in position order, the leaf to prove first. */
  add(record: CheckpointedRecord): void {
    const index = this.count++;
    if (index === this.leafIndex) return;
    const level = partingLevel(index, this.leafIndex);
    const sibling = (this.siblings[level] ??= new MerkleAccumulator(this.tree.version));
    if (typeof sibling !== 'string') sibling.add(record);
  }

  /** The proof in the tree of the records added. */
  proof(): InclusionProof {
    const path = this.siblings
      .filter((sibling) => sibling !== undefined)
      .map((sibling) => (typeof sibling === 'string' ? sibling : sibling.root()));
    return { leafIndex: this.leafIndex, treeSize: this.count, path };
  }
}

/** The level below which the subtrees of leaves `a` and `b` part: the highest bit in which their indexes differ. */
function partingLevel(a: number, b: number): number {
  let level = -1;
  while (a !== b) {
    a = Math.floor(a / 2);
    b = Math.floor(b / 2);
    level++;
  }
  return level;
}

/**
 * The root an inclusion proof leads to from a record (RFC 9162 §2.1.3.2), or null when the proof
 * cannot be one of that leaf in a tree of that size (a path too long or too short, an index outside
 * the tree). The record is in the tree of a checkpoint whose root it equals.
 */
export function rootOfInclusion(
  version: CheckpointVersion,
  record: CheckpointedRecord,
  { leafIndex, treeSize, path }: InclusionProof,
): string | null {
  if (!Number.isSafeInteger(leafIndex) || !Number.isSafeInteger(treeSize) || leafIndex < 0 || leafIndex >= treeSize) {
    return null;
  }
  let fn = leafIndex;
  let sn = treeSize - 1;
  let root = leafHash(version, record);
  for (const hex of path) {
    if (sn === 0 || !/^[0-9a-f]{64}$/.test(hex)) return null;
    const sibling = Buffer.from(hex, 'hex');
    if (fn % 2 === 1 || fn === sn) {
      root = nodeHash(sibling, root);
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else {
      root = nodeHash(root, sibling);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 ? root.toString('hex') : null;
}
