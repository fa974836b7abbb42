import { expect } from 'chai';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CheckpointSigner, MerkleAccumulator } from '../../src/crypto/log-checkpoint.js';
import { InclusionProver } from '../../src/crypto/inclusion-proof.js';
import { digestsOf, signCertificate, verifyCertificate } from '../../src/crypto/erasure-certificate.js';
import type { ErasureCertificate } from '../../src/domain/erasure-certificate.js';

const record = (position: number) => ({
  position,
  hash: createHash('sha256').update(`record ${position}`).digest('hex'),
  recordedAt: new Date(Date.UTC(2026, 0, 1, 0, 0, position)).toISOString(),
});

/**
 * A certificate of the forgetting at position 6 of a log of 9 records, confirmed downstream at
 * position 8, each with its inclusion proof, signed by a real audit key.
 */
function certify(signer: CheckpointSigner): ErasureCertificate {
  const tree = new MerkleAccumulator();
  const provers = new Map<number, InclusionProver>();
  for (let position = 1; position <= 9; position++) {
    if (position === 6 || position === 8) provers.set(position, new InclusionProver(tree));
    tree.add(record(position));
    for (const prover of provers.values()) prover.add(record(position));
  }
  const proved = (position: number) => ({ ...record(position), inclusion: provers.get(position)!.proof() });
  const forgettingId = '01936f0e-0000-7000-8000-000000000006';
  const time = '2026-02-01T10:00:00.000Z';
  const key = { scope: 'contact:C-1', keyId: '01936f0e-1111-7000-8000-000000000001', shreddedAt: time };
  return signCertificate(
    {
      issuedAt: time,
      request: { requestId: 'ER-1', channel: 'post', contactId: 'C-1', requestedAt: '2026-01-02T09:00:00.000Z' },
      forgetting: { eventId: forgettingId, type: 'ContactErased', occurredAt: time, ...proved(6) },
      keysDestroyed: [{ ...key, reason: 'ContactErased', eventId: forgettingId }],
      confirmations: [
        {
          subscriber: 'mailing-tool',
          eventId: '01936f0e-0000-7000-8000-000000000008',
          confirmedAt: time,
          ...proved(8),
        },
      ],
      awaitingConfirmation: ['warehouse'],
      checkpoint: signer.sign({ version: 2, position: tree.last, size: tree.size, rootHash: tree.root(), time }),
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
      /^\/signature does not hold: it was changed/m,
    ],
    ['the position changed', (c) => (c.forgetting.position += 1), /^\/forgetting\/position was changed/m],
    [
      'the hash changed',
      (c) => (c.forgetting.hash = c.forgetting.hash.replace(/^./, (x: string) => (x === 'a' ? 'b' : 'a'))),
      /^\/forgetting\/hash was changed/m,
    ],
    [
      'a key id changed',
      (c) => (c.keysDestroyed[0].keyId = c.keysDestroyed[0].keyId.replace(/1$/, '2')),
      /^\/keysDestroyed\/0\/keyId was changed/m,
    ],
    [
      'the checkpoint root changed',
      (c) => (c.checkpoint.rootHash = c.checkpoint.rootHash.replace(/.$/, (x: string) => (x === '0' ? '1' : '0'))),
      /^\/checkpoint\/rootHash was changed/m,
    ],
    [
      'the steps of the proof reordered',
      (c) => c.forgetting.inclusion.path.reverse(),
      /^\/forgetting\/inclusion\/path\/0 was changed/m,
    ],
    ['a confirmation changed', (c) => (c.confirmations[0].position = 7), /^\/confirmations\/0\/position was changed/m],
    ['a system awaited dropped', (c) => c.awaitingConfirmation.pop(), /^\/awaitingConfirmation\/0 was removed/m],
    ['a field removed', (c) => delete c.request.channel, /^\/request\/channel was removed/m],
    ['a field added', (c) => (c.request.name = 'someone'), /^\/request\/name was added/m],
  ];
  for (const [what, flip, named] of flips) {
    it(`names ${what}`, () => {
      const changed = structuredClone(certificate);
      flip(changed);
      const result = verifyCertificate(changed, publicKey);
      expect(result.ok).to.equal(false);
      expect(result.problems.join('\n')).to.match(named);
    });
  }

  /** A change that recomputes the digests too: only the signatures and the proofs can find it. */
  const withDigests = (change: (c: any) => void) => {
    const { digests: _digests, signature, ...stated }: any = structuredClone(certificate);
    change(stated);
    return { ...stated, digests: digestsOf(stated), signature };
  };

  it('a checkpoint changed along with its digests is still found: by its signature and the proof', () => {
    const result = verifyCertificate(
      withDigests((c) => (c.checkpoint.rootHash = '0'.repeat(64))),
      publicKey,
    );
    expect(result).to.include({ ok: false, signed: false, checkpointSigned: false, included: false });
    expect(result.altered).to.deep.equal([]);
    expect(result.problems[0]).to.equal(
      '/signature does not hold: it was changed, or the public key given is not the one that signed',
    );
  });

  it("a confirmation's record changed along with the digests is not under the checkpoint", () => {
    const result = verifyCertificate(
      withDigests((c) => (c.confirmations[0].hash = record(7).hash)),
      publicKey,
    );
    expect(result).to.include({ ok: false, signed: false, checkpointSigned: true, included: false });
    expect(result.problems[1]).to.match(/^\/confirmations\/0: its record .* is not under the checkpoint's root/);
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

  it('a member written twice in its file is refused: JSON.parse keeps the last, another reader the first', () => {
    const text = JSON.stringify(certificate).replace('"channel":"post"', '"channel":"email","channel":"post"');
    expect(verifyCertificate(JSON.parse(text), publicKey).ok, 'as parsed, the signed values').to.equal(true);
    const result = verifyCertificate(JSON.parse(text), publicKey, text);
    expect(result.ok).to.equal(false);
    expect(result.problems[0]).to.equal('/request/channel is written twice: which value is meant is not certain');
    const keyRepeated = JSON.stringify(certificate).replace('{"certificate"', '{"certificate":"x","certificate"');
    expect(verifyCertificate(JSON.parse(keyRepeated), publicKey, keyRepeated).problems[0]).to.equal(
      '/certificate is written twice: which value is meant is not certain',
    );
    const asWritten = JSON.stringify(certificate, null, 2);
    expect(verifyCertificate(JSON.parse(asWritten), publicKey, asWritten).ok, 'each once').to.equal(true);
  });

  it('a number written otherwise than JSON.stringify does is refused: the file would show one, verify another', () => {
    const text = JSON.stringify(certificate);
    for (const written of ['6.0000000000000001', '6.0', '6e0', '1e400', '-0']) {
      const changed = text.replace('"position":6,', `"position":${written},`);
      expect(verifyCertificate(JSON.parse(changed), publicKey, changed).problems, written).to.deep.equal([
        '/forgetting/position is a number not written as JSON.stringify does: which value is meant is not certain',
      ]);
    }
  });

  it('values nested deeper than any certificate are refused, not a crash', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    const result = verifyCertificate({ ...certificate, extra: deep }, publicKey);
    expect(result.ok).to.equal(false);
    expect(result.problems).to.deep.equal([
      'the certificate nests values deeper than an erasure certificate does: not one the ledger issues',
    ]);
  });

  it('a document that is not an object is refused as such, whatever it is', () => {
    for (const document of [null, 42, 'certificate', [certificate], true]) {
      expect(verifyCertificate(document, publicKey).problems).to.deep.equal([
        'the document is not a JSON object: not an erasure certificate as the ledger issues',
      ]);
    }
  });

  it('an object without signed digests is refused as such; a member added at the root is named so', () => {
    for (const document of [{}, { signature: 'x' }, { digests: [] }]) {
      const { problems } = verifyCertificate(document, publicKey, JSON.stringify(document));
      expect(problems).to.include(
        'the document has no signed digests: not an erasure certificate as the ledger issues',
      );
      expect(problems.filter((problem) => problem.endsWith('it is not what was signed'))).to.deep.equal([]);
    }
    const problems = verifyCertificate({ digests: {} }, publicKey, '{"digests":{}}').problems;
    expect(problems.filter((problem) => problem.startsWith(' '))).to.deep.equal([]);
  });

  it('a file holding a long string (8 MiB) is refused, not a crash of the reader', () => {
    const document = { ...certificate, certificate: 'x'.repeat(8 * 1024 * 1024) };
    const result = verifyCertificate(document, publicKey, JSON.stringify(document));
    expect(result.ok).to.equal(false);
  });

  it('a document that is no certificate is refused, naming what is missing', () => {
    const result = verifyCertificate({ hello: 'world' }, publicKey);
    expect(result.ok).to.equal(false);
    expect(result.problems).to.include('/certificate is required: not an erasure certificate as the ledger issues');
  });
});
