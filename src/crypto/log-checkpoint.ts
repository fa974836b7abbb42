import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';

/**
 * Tamper evidence an auditor can hold: a Merkle tree over the log's records in position order
 * (RFC 6962's tree hash: leaves and nodes hashed apart, so no leaf passes for a node), whose root,
 * with the position and the count it covers, the ledger signs with an Ed25519 key of its own. The
 * leaves are the records' chain hashes, which crypto-shredding leaves as they were, with their
 * positions and, from version 2 on, the times they were recorded: every stored column of a record
 * is then under the root (the chain hash covers the others). A checkpoint says its version, and is
 * verified with its version's leaves: one kept before version 2 still holds.
 */
export type CheckpointVersion = 1 | 2;
/** The version of the checkpoints the ledger signs. */
export const CHECKPOINT_VERSION: CheckpointVersion = 2;

/** What a leaf of the tree covers. */
export interface CheckpointedRecord {
  position: number;
  /** The record's chain hash. */
  hash: string;
  recordedAt: string;
}

/** RFC 6962's leaf hash of a record (0x00 before it, so no leaf passes for a node). */
export const leafHash = (version: CheckpointVersion, { position, hash, recordedAt }: CheckpointedRecord) =>
  createHash('sha256')
    .update(Buffer.from([0]))
    .update(version === 1 ? `${position}\n${hash}` : `${position}\n${hash}\n${recordedAt}`)
    .digest();
/** RFC 6962's interior node hash (0x01 before its children). */
export const nodeHash = (left: Buffer, right: Buffer) =>
  createHash('sha256')
    .update(Buffer.from([1]))
    .update(left)
    .update(right)
    .digest();

/** The tree hash of a sequence of records, fed in position order with O(log n) memory. */
export class MerkleAccumulator {
  private readonly stack: Array<{ size: number; hash: Buffer }> = [];
  size = 0;
  last = 0;

  constructor(readonly version: CheckpointVersion = CHECKPOINT_VERSION) {}

  add(record: CheckpointedRecord): void {
    this.size++;
    this.last = record.position;
    let node = { size: 1, hash: leafHash(this.version, record) };
    while (this.stack.length > 0 && this.stack.at(-1)!.size === node.size) {
      const left = this.stack.pop()!;
      node = { size: left.size * 2, hash: nodeHash(left.hash, node.hash) };
    }
    this.stack.push(node);
  }

  /** The perfect subtrees of what was added, largest (leftmost) first: their sizes are the bits of `size`. */
  subtrees(): ReadonlyArray<{ size: number; hash: Buffer }> {
    return [...this.stack];
  }

  /** Whether the records added so far are exactly those a checkpoint covers: as many, the same root. */
  covers(checkpoint: Pick<SignedCheckpoint, 'size' | 'rootHash'>): boolean {
    return this.size === checkpoint.size && this.root() === checkpoint.rootHash;
  }

  /** RFC 6962's MTH of what was added (the empty tree hashes the empty string). */
  root(): string {
    if (this.stack.length === 0) return createHash('sha256').digest('hex');
    let root = this.stack.at(-1)!.hash;
    for (let i = this.stack.length - 2; i >= 0; i--) root = nodeHash(this.stack[i]!.hash, root);
    return root.toString('hex');
  }
}

export interface SignedCheckpoint {
  /** How its leaves are computed (CheckpointVersion). */
  version: CheckpointVersion;
  /** The last position covered, and how many records up to it. */
  position: number;
  size: number;
  rootHash: string;
  time: string;
  /** Ed25519 over `signedText`, base64. */
  signature: string;
}

const signedText = (c: Omit<SignedCheckpoint, 'signature'>) =>
  Buffer.from(`contact-ledger checkpoint v${c.version}\n${c.position}\n${c.size}\n${c.rootHash}\n${c.time}`);

/**
 * Whether `signature` (base64) is Ed25519 over `text` by the holder of `publicKey`. Only its
 * canonical base64 holds: a decoder ignores the unused bits of the last character, so an altered
 * character there would otherwise decode to the same signature.
 */
export function signedBy(text: Buffer, signature: string, publicKey: KeyObject | string): boolean {
  try {
    const key = typeof publicKey === 'string' ? createPublicKey(publicKey) : publicKey;
    const bytes = Buffer.from(signature, 'base64');
    return bytes.toString('base64') === signature && verify(null, text, key, bytes);
  } catch {
    return false;
  }
}

/**
 * The ledger's audit key: an Ed25519 private key in a file beside the master key, never in a
 * database. It signs log checkpoints and the entries of the forget journal.
 */
export class CheckpointSigner {
  private readonly publicKey: KeyObject;

  private constructor(private readonly privateKey: KeyObject) {
    this.publicKey = createPublicKey(privateKey);
  }

  /** Loads the key file, or creates it (mode 0600) when it does not exist yet. */
  static fromFile(path: string): CheckpointSigner {
    if (existsSync(path)) return new CheckpointSigner(createPrivateKey(readFileSync(path, 'utf8')));
    const { privateKey } = generateKeyPairSync('ed25519');
    writeFileSync(path, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
    chmodSync(path, 0o600);
    return new CheckpointSigner(privateKey);
  }

  publicKeyPem(): string {
    return this.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  }

  /** Signs a checkpoint of the tree's version (MerkleAccumulator.version). */
  sign(checkpoint: Omit<SignedCheckpoint, 'signature'>): SignedCheckpoint {
    return { ...checkpoint, signature: this.signText(signedText(checkpoint)) };
  }

  /** Ed25519 over `text`, base64. */
  signText(text: Buffer): string {
    return sign(null, text, this.privateKey).toString('base64');
  }

  /** Whether `signature` is this key's over `text`. */
  signed(text: Buffer, signature: string): boolean {
    return signedBy(text, signature, this.publicKey);
  }
}

/** Whether a checkpoint was signed by the holder of this public key (or its PEM), unaltered. */
export function checkpointSignedBy(checkpoint: SignedCheckpoint, publicKey: KeyObject | string): boolean {
  const { signature, ...unsigned } = checkpoint;
  return signedBy(signedText(unsigned), signature, publicKey);
}
