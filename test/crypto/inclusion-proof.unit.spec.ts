import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { MerkleAccumulator } from '../../src/crypto/log-checkpoint.js';
import { InclusionProver, rootOfInclusion } from '../../src/crypto/inclusion-proof.js';

const record = (position: number) => ({
  position,
  hash: createHash('sha256').update(`record ${position}`).digest('hex'),
  recordedAt: new Date(Date.UTC(2026, 0, 1, 0, 0, position)).toISOString(),
});

/** A tree of `size` records at positions 3, 5, 7, ... (positions need not be dense), proving leaf `index`. */
function proveIn(size: number, index: number) {
  const tree = new MerkleAccumulator();
  let prover: InclusionProver | null = null;
  for (let i = 0; i < size; i++) {
    if (i === index) prover = new InclusionProver(tree);
    tree.add(record(3 + 2 * i));
    prover?.add(record(3 + 2 * i));
  }
  return { root: tree.root(), proof: prover!.proof(), leaf: record(3 + 2 * index) };
}

describe('inclusion proofs in the checkpoint tree (RFC 9162 §2.1.3)', () => {
  it('every leaf of every tree of 1 to 40 records leads to the root the checkpoint signs', () => {
    for (let size = 1; size <= 40; size++) {
      for (let index = 0; index < size; index++) {
        const { root, proof, leaf } = proveIn(size, index);
        expect(proof).to.include({ leafIndex: index, treeSize: size });
        expect(rootOfInclusion(2, leaf, proof), `${index} of ${size}`).to.equal(root);
      }
    }
  });

  it('a proof is as long as the leaf is deep: at most ceil(log2 n) hashes', () => {
    expect(proveIn(1, 0).proof.path).to.have.length(0);
    expect(proveIn(1000, 999).proof.path.length).to.be.at.most(10);
    expect(proveIn(1024, 517).proof.path).to.have.length(10);
  });

  it('another record, index, size or path does not lead to the root', () => {
    const { root, proof, leaf } = proveIn(13, 6);
    const other = (changes: object) => rootOfInclusion(2, leaf, { ...proof, ...changes });
    expect(rootOfInclusion(2, { ...leaf, position: leaf.position + 1 }, proof)).not.to.equal(root);
    expect(rootOfInclusion(2, { ...leaf, hash: record(99).hash }, proof)).not.to.equal(root);
    expect(rootOfInclusion(2, { ...leaf, recordedAt: record(99).recordedAt }, proof)).not.to.equal(root);
    expect(rootOfInclusion(1, leaf, proof)).not.to.equal(root);
    expect(other({ leafIndex: 7 })).not.to.equal(root);
    // The size shapes the path of a leaf at the tree's right edge (the verifier holds it to the checkpoint's).
    const last = proveIn(13, 12);
    expect(rootOfInclusion(2, last.leaf, { ...last.proof, treeSize: 14 })).not.to.equal(last.root);
    expect(other({ path: [...proof.path].reverse() })).not.to.equal(root);
    expect(other({ path: proof.path.slice(1) })).to.equal(null);
    expect(other({ path: [...proof.path, proof.path[0]] })).to.equal(null);
    expect(other({ leafIndex: 13 })).to.equal(null);
    expect(other({ path: ['not hex', ...proof.path.slice(1)] })).to.equal(null);
  });
});
