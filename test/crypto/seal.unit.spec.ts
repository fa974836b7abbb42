import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { open, seal, type DataKey } from '../../src/crypto/seal.js';
import fc from 'fast-check';
import canonicalizeModule from 'canonicalize';
import { canonicalRecord, chainHash, ChainVerifier, GENESIS_HASH } from '../../src/crypto/hash-chain.js';
import { MasterKey } from '../../src/crypto/master-key.js';
import { IntegrityError } from '../../src/domain/errors.js';

const key: DataKey = { keyId: 'k-1', scope: 'contact:C-1', key: randomBytes(32) };
const flip = (base64: string, at = 0) => {
  const bytes = Buffer.from(base64, 'base64');
  bytes[at] = bytes[at]! ^ 0x01;
  return bytes.toString('base64');
};

describe('sealing (AES-256-GCM)', () => {
  const personal = { email: 'alice@example.org', firstName: 'Alice' };

  it('opens what it sealed, and the ciphertext does not contain the plaintext', () => {
    const sealed = seal(personal, 'event-1', key);
    expect(open(sealed, 'event-1', key)).to.deep.equal(personal);
    expect(Buffer.from(sealed.ciphertext, 'base64').includes(Buffer.from('alice@example.org'))).to.equal(false);
    expect(sealed.fields).to.deep.equal(['email', 'firstName']);
    expect(Buffer.from(sealed.iv, 'base64')).to.have.length(12);
  });

  it('uses a fresh IV each time', () => {
    expect(seal(personal, 'event-1', key).iv).not.to.equal(seal(personal, 'event-1', key).iv);
  });

  const tamperings: Array<[string, (s: ReturnType<typeof seal>) => ReturnType<typeof seal>, string]> = [
    ['a flipped ciphertext byte', (s) => ({ ...s, ciphertext: flip(s.ciphertext, 3) }), 'event-1'],
    ['a flipped tag byte', (s) => ({ ...s, tag: flip(s.tag) }), 'event-1'],
    ['a flipped IV byte', (s) => ({ ...s, iv: flip(s.iv) }), 'event-1'],
    ['a sealed part moved to another event', (s) => s, 'event-2'],
    ['a sealed part relabelled with another key id', (s) => ({ ...s, keyId: 'k-2' }), 'event-1'],
  ];
  for (const [name, tamper, eventId] of tamperings) {
    it(`refuses to open ${name} with a clear IntegrityError, never garbage`, () => {
      const sealed = tamper(seal(personal, 'event-1', key));
      expect(() => open(sealed, eventId, key)).to.throw(IntegrityError, /failed to open/);
    });
  }

  it('refuses to open with another key', () => {
    const sealed = seal(personal, 'event-1', key);
    expect(() => open(sealed, 'event-1', { ...key, key: randomBytes(32) })).to.throw(IntegrityError);
  });
});

describe('master key wrapping', () => {
  it('unwraps only for the scope and key id it was wrapped for', () => {
    const master = MasterKey.generate();
    const dataKey = randomBytes(32);
    const wrapped = master.wrap(dataKey, 'contact:C-1', 'k-1');
    expect(master.unwrap(wrapped, 'contact:C-1', 'k-1').equals(dataKey)).to.equal(true);
    expect(() => master.unwrap(wrapped, 'contact:C-2', 'k-1')).to.throw();
    expect(() => MasterKey.generate().unwrap(wrapped, 'contact:C-1', 'k-1')).to.throw();
  });

  it('refuses a master key that is not 32 bytes', () => {
    expect(() => MasterKey.fromBase64(randomBytes(16).toString('base64'), 'test')).to.throw(/32 bytes/);
  });
});

describe('hash chain', () => {
  const first = {
    id: 'e1',
    type: 'NoteAdded',
    stream: 's',
    revision: 0,
    occurredAt: '2026-01-01T00:00:00.000Z',
    organizationId: 'O',
    data: { b: 1, a: 2 },
    sealed: null,
    prevHash: GENESIS_HASH,
  };
  const firstHash = chainHash(first);
  const second = { ...first, id: 'e2', revision: 1, prevHash: firstHash };
  const secondHash = chainHash(second);

  it('writes exactly the RFC 8785 bytes the canonicalize library gives for the whole record', () => {
    const canonicalize = canonicalizeModule as unknown as (input: unknown) => string;
    const text = fc.string({ unit: 'grapheme' });
    const sealed = fc.option(
      fc.record({ keyId: text, iv: text, tag: text, ciphertext: text, fields: fc.array(text) }),
      { nil: null },
    );
    const record = fc.record({
      id: text,
      type: text,
      stream: text,
      revision: fc.nat(),
      occurredAt: text,
      organizationId: text,
      data: fc.dictionary(text, fc.jsonValue()) as fc.Arbitrary<Record<string, unknown>>,
      sealed,
      prevHash: text,
    });
    fc.assert(
      fc.property(record, (fields) => canonicalRecord(fields) === canonicalize(fields)),
      { numRuns: 2000 },
    );
    const lone = { ...first, id: '\ud800', data: { '\u00e9': 1e21, b: [0.1, -0, 'x\u2028'] } };
    expect(canonicalRecord(lone)).to.equal(canonicalize(lone));
  });

  it('is canonical: key order does not change the hash', () => {
    expect(chainHash({ ...first, data: { a: 2, b: 1 } })).to.equal(firstHash);
  });

  it('verifies an intact chain and reports the first broken link of a stream', () => {
    const intact = new ChainVerifier();
    intact.check({ ...first, hash: firstHash });
    intact.check({ ...second, hash: secondHash });
    expect(intact.report()).to.deep.equal({ ok: true, streams: 1, events: 2, broken: [] });

    const altered = new ChainVerifier();
    altered.check({ ...first, data: { a: 3, b: 1 }, hash: firstHash });
    altered.check({ ...second, hash: secondHash });
    expect(altered.report().broken).to.deep.equal([
      { stream: 's', revision: 0, reason: 'hash does not match the record (altered)' },
    ]);

    const gap = new ChainVerifier();
    gap.check({ ...second, hash: secondHash });
    expect(gap.report().broken[0]).to.include({ stream: 's', revision: 1 });
  });
});
