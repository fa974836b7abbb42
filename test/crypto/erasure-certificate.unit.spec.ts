import { expect } from 'chai';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CheckpointSigner, MerkleAccumulator } from '../../src/crypto/log-checkpoint.js';
import { InclusionProver } from '../../src/crypto/inclusion-proof.js';
import { signCertificate, verifyCertificate } from '../../src/crypto/erasure-certificate.js';
import type { ErasureCertificate } from '../../src/domain/erasure-certificate.js';

const record = (position: number) => ({
  position,
  hash: createHash('sha256').update(`record ${position}`).digest('hex'),
  recordedAt: new Date(Date.UTC(2026, 0, 1, 0, 0, position)).toISOString(),
});

/** A certificate of the forgetting at position 6 of a log of 9 records, signed by a real audit key. */
function certify(signer: CheckpointSigner): ErasureCertificate {
  const tree = new MerkleAccumulator();
  let prover: InclusionProver | null = null;
  for (let position = 1; position <= 9; position++) {
    if (position === 6) prover = new InclusionProver(tree);
    tree.add(record(position));
    prover?.add(record(position));
  }
  const forgettingId = '01936f0e-0000-7000-8000-000000000006';
  const time = '2026-02-01T10:00:00.000Z';
  return signCertificate(
    {
      issuedAt: time,
      request: { requestId: 'ER-1', channel: 'post', contactId: 'C-1', requestedAt: '2026-01-02T09:00:00.000Z' },
      forgetting: { eventId: forgettingId, type: 'ContactErased', occurredAt: time, ...record(6) },
      keysDestroyed: [
        {
          scope: 'contact:C-1',
          keyId: '01936f0e-1111-7000-8000-000000000001',
          shreddedAt: time,
          reason: 'ContactErased',
          eventId: forgettingId,
        },
      ],
      checkpoint: signer.sign({ version: 2, position: tree.last, size: tree.size, rootHash: tree.root(), time }),
      inclusion: prover!.proof(),
    },
    signer,
  );
}

describe('erasure certificates: the offline verification', () => {
  let folder: string;
  let signer: CheckpointSigner;
  let publicKey: string;
  let certificate: ErasureCertificate;
  before(() => {
    folder = mkdtempSync(join(tmpdir(), 'certificate-unit-'));
    signer = CheckpointSigner.fromFile(join(folder, 'audit.key'));
    publicKey = signer.publicKeyPem();
    certificate = certify(signer);
  });
  after(() => rmSync(folder, { recursive: true, force: true }));

  it('holds as signed, and through JSON written and read again in any key order', () => {
    expect(verifyCertificate(certificate, publicKey)).to.deep.equal({
      ok: true,
      signed: true,
      checkpointSigned: true,
      included: true,
      altered: [],
      problems: [],
    });
    const reordered = Object.fromEntries(Object.entries(structuredClone(certificate)).reverse());
    expect(verifyCertificate(JSON.parse(JSON.stringify(reordered, null, 2)), publicKey).ok).to.equal(true);
  });

  const flips: Array<[string, (c: any) => void, RegExp]> = [
    [
      'the signature changed',
      (c) => (c.signature = `${c.signature[1]}${c.signature[0]}${c.signature.slice(2)}`),
      /^\/signature does not hold: it was changed/,
    ],
    ['the position changed', (c) => (c.forgetting.position += 1), /^\/forgetting\/position was changed/],
    [
      'the hash changed',
      (c) => (c.forgetting.hash = c.forgetting.hash.replace(/^./, (x: string) => (x === 'a' ? 'b' : 'a'))),
      /^\/forgetting\/hash was changed/,
    ],
    [
      'a key id changed',
      (c) => (c.keysDestroyed[0].keyId = c.keysDestroyed[0].keyId.replace(/1$/, '2')),
      /^\/keysDestroyed\/0\/keyId was changed/,
    ],
    [
      'the checkpoint root changed',
      (c) => (c.checkpoint.rootHash = c.checkpoint.rootHash.replace(/.$/, (x: string) => (x === '0' ? '1' : '0'))),
      /^\/checkpoint\/rootHash was changed/,
    ],
    ['the steps of the proof reordered', (c) => c.inclusion.path.reverse(), /^\/inclusion\/path\/0 was changed/],
    ['a field removed', (c) => delete c.request.channel, /^\/request\/channel was removed/],
    ['a field added', (c) => (c.request.name = 'someone'), /^\/request\/name was added/],
  ];
  for (const [what, flip, named] of flips) {
    it(`names ${what}`, () => {
      const changed = structuredClone(certificate);
      flip(changed);
      const result = verifyCertificate(changed, publicKey);
      expect(result.ok).to.equal(false);
      expect(result.problems[0]).to.match(named);
    });
  }

  it('a checkpoint changed along with its digests is still found: by its signature and the proof', () => {
    const changed: any = structuredClone(certificate);
    changed.checkpoint.rootHash = '0'.repeat(64);
    changed.digests['/checkpoint/rootHash'] = createHash('sha256')
      .update(JSON.stringify('0'.repeat(64)))
      .digest('hex');
    const result = verifyCertificate(changed, publicKey);
    expect(result).to.include({ ok: false, signed: false, checkpointSigned: false, included: false });
    expect(result.altered).to.deep.equal([]);
  });

  it("another key's public half refuses it, naming both keys", () => {
    const other = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const result = verifyCertificate(certificate, other);
    expect(result).to.include({ ok: false, signed: false, checkpointSigned: false });
    expect(result.problems[0]).to.match(
      /is not by the public key given \([0-9a-f]{64}\): the certificate names audit key/,
    );
  });

  it('any byte of it altered: no longer JSON, or refused', () => {
    const text = JSON.stringify(certificate);
    let refused = 0;
    for (let i = 0; i < text.length; i++) {
      const altered = `${text.slice(0, i)}${text[i] === '0' ? '1' : '0'}${text.slice(i + 1)}`;
      let parsed: unknown;
      try {
        parsed = JSON.parse(altered);
      } catch {
        continue;
      }
      expect(verifyCertificate(parsed, publicKey).ok, `byte ${i} of ${text.length}`).to.equal(false);
      refused++;
    }
    expect(refused).to.be.greaterThan(text.length / 2);
  });

  it('a document that is no certificate is refused, naming what is missing', () => {
    const result = verifyCertificate({ hello: 'world' }, publicKey);
    expect(result.ok).to.equal(false);
    expect(result.problems).to.include('/certificate is required: not an erasure certificate as the ledger issues');
  });
});
