import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { CERTIFICATE_KIND, ErasureCertificate, type CertificateFields } from '../domain/erasure-certificate.js';
import { describeAjvError, validatorFor } from '../domain/validation.js';
import { canonicalJson } from './hash-chain.js';
import { rootOfInclusion } from './inclusion-proof.js';
import { checkpointSignedBy, signedBy, type CheckpointSigner } from './log-checkpoint.js';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** SHA-256 of a public key (or its PEM) as DER SubjectPublicKeyInfo, hex: the key named without the key. */
export const publicKeyFingerprint = (publicKey: KeyObject | string): string =>
  createHash('sha256')
    .update(
      (typeof publicKey === 'string' ? createPublicKey(publicKey) : publicKey).export({ type: 'spki', format: 'der' }),
    )
    .digest('hex');

const pointerPart = (key: string | number) => String(key).replaceAll('~', '~0').replaceAll('/', '~1');

/**
 * SHA-256 of the canonical JSON of every value (scalars, empty arrays and objects) by its JSON
 * Pointer. Signed with the rest, they let a verification name each value changed after signing,
 * which a single signature over the whole cannot. For such values JSON.stringify writes RFC 8785's
 * form already (it defines its scalars by ECMAScript's serialization).
 */
export function digestsOf(value: unknown, pointer = '', into: Record<string, string> = {}): Record<string, string> {
  const entries: Array<[string | number, unknown]> = Array.isArray(value)
    ? value.map((item, index) => [index, item])
    : value !== null && typeof value === 'object'
      ? Object.entries(value)
      : [];
  if (entries.length === 0) into[pointer] = sha256(JSON.stringify(value));
  for (const [key, item] of entries) digestsOf(item, `${pointer}/${pointerPart(key)}`, into);
  return into;
}

/**
 * What a reader of this JSON text may take otherwise than JSON.parse does, each naming where: a
 * member an object names twice (JSON.parse keeps the last, another reader the first), a number not
 * written as ECMAScript writes its value (6.0000000000000001 parses as 6, 1e400 as Infinity, which
 * is no JSON value). The file would show one value and verify another. RFC 8785 takes I-JSON (RFC
 * 7493) and writes numbers so: the ledger's own files hold neither.
 */
function ambiguitiesOf(text: string): string[] {
  type Frame = { pointer: string; names: Set<string> | null; member: string; index: number; keyNext: boolean };
  const frames: Frame[] = [];
  const problems: string[] = [];
  const child = (parent: Frame | undefined) =>
    parent === undefined ? '' : `${parent.pointer}/${pointerPart(parent.names ? parent.member : parent.index)}`;
  // The unrolled string pattern: an alternation repeated per character overflowed on long strings.
  for (const [token] of text.matchAll(/"[^"\\]*(?:\\.[^"\\]*)*"|[{}[\],]|-?\d[\d.eE+-]*/g)) {
    const top = frames.at(-1);
    if (token === '{' || token === '[') {
      const names = token === '{' ? new Set<string>() : null;
      frames.push({ pointer: child(top), names, member: '', index: 0, keyNext: names !== null });
    } else if (token === '}' || token === ']') frames.pop();
    else if (token === ',' && top) {
      top.index++;
      top.keyNext = top.names !== null;
    } else if (!token.startsWith('"')) {
      if (String(Number(token)) !== token)
        problems.push(`${child(top)} is a number not written as JSON.stringify does`);
    } else if (top?.names && top.keyNext) {
      top.keyNext = false;
      top.member = JSON.parse(token) as string;
      if (top.names.has(top.member)) problems.push(`${child(top)} is written twice`);
      top.names.add(top.member);
    }
  }
  return problems.map((problem) => `${problem}: which value is meant is not certain`);
}

const signedText = (unsigned: Omit<ErasureCertificate, 'signature'>) =>
  Buffer.from(`${CERTIFICATE_KIND}\n${canonicalJson(unsigned)}`);

/** The certificate of these fields, with their digests, signed by the audit key. */
export function signCertificate(
  fields: Omit<CertificateFields, 'certificate' | 'auditKey'>,
  signer: CheckpointSigner,
): ErasureCertificate {
  const stated = { certificate: CERTIFICATE_KIND, ...fields, auditKey: publicKeyFingerprint(signer.publicKeyPem()) };
  const unsigned = { ...stated, digests: digestsOf(stated) };
  return { ...unsigned, signature: signer.signText(signedText(unsigned)) };
}

export interface CertificateVerification {
  ok: boolean;
  /** The certificate's signature is the holder's of the public key given. */
  signed: boolean;
  /** Its checkpoint's signature is too. */
  checkpointSigned: boolean;
  /** The records of the forgetting and the confirmations (position, hash, recordedAt) are under the checkpoint. */
  included: boolean;
  /** The JSON Pointers of the values that are not what was signed (changed, removed or added). */
  altered: string[];
  /** What does not hold, each naming what was changed; empty when ok. */
  problems: string[];
}

/**
 * Verifies a certificate offline with the audit public key (PEM): its signature; each value
 * against its signed digest (naming what changed); its checkpoint's signature; and the inclusion
 * proofs that lead from the records of the forgetting and of each downstream confirmation
 * (position, chain hash, recordedAt) to the checkpoint's root. What that proves: the ledger's key
 * certified these facts, and records of those hashes at those positions are in the log the
 * checkpoint covers, so a log later shown to extend the checkpoint (`ledger audit verify
 * --against`) holds them there. What it cannot prove offline: that each record is the event the
 * certificate names (their fields are not in it: nothing personal is), nor that the keys are gone
 * from every copy of the key store. `text`, the JSON it was read from: one a reader may take
 * otherwise than it verifies is refused (ambiguitiesOf).
 */
export function verifyCertificate(document: unknown, publicKeyPem: string, text?: string): CertificateVerification {
  const publicKey = createPublicKey(publicKeyPem);
  const refused = (problem: string): CertificateVerification => ({
    ok: false,
    signed: false,
    checkpointSigned: false,
    included: false,
    altered: [],
    problems: [problem],
  });
  if (document === null || typeof document !== 'object' || Array.isArray(document)) {
    return refused('the document is not a JSON object: not an erasure certificate as the ledger issues');
  }
  if (nestedDeeper(document, 8)) {
    return refused('the certificate nests values deeper than an erasure certificate does: not one the ledger issues');
  }
  const ambiguities = ambiguitiesOf(text ?? '');
  if (ambiguities.length > 0) {
    return { ok: false, signed: false, checkpointSigned: false, included: false, altered: [], problems: ambiguities };
  }
  const problems: string[] = [];
  const given = document as Record<string, unknown>;
  const { signature, ...unsigned } = given;
  const { digests, ...stated } = unsigned;
  // Without signed digests there is nothing to compare value by value: said once, not per value.
  const signedDigests =
    digests !== null && typeof digests === 'object' && !Array.isArray(digests)
      ? (digests as Record<string, unknown>)
      : null;
  if (!signedDigests)
    problems.push('the document has no signed digests: not an erasure certificate as the ledger issues');
  const found = signedDigests ? digestsOf(stated) : {};
  const altered = [...new Set([...Object.keys(signedDigests ?? {}), ...Object.keys(found)])]
    .filter((pointer) => signedDigests![pointer] !== found[pointer])
    .sort();
  for (const pointer of altered) {
    const how = !Object.hasOwn(found, pointer)
      ? 'was removed'
      : !Object.hasOwn(signedDigests ?? {}, pointer)
        ? 'was added'
        : 'was changed';
    problems.push(`${pointer || 'the document'} ${how}: it is not what was signed`);
  }
  const signed =
    typeof signature === 'string' &&
    signedBy(signedText(unsigned as Omit<ErasureCertificate, 'signature'>), signature, publicKey);
  if (!signed) problems.push(signatureProblem(given, altered, publicKey));

  const validate = validatorFor(ErasureCertificate);
  if (!validate(document)) {
    for (const error of validate.errors ?? []) {
      const { pointer, message } = describeAjvError(error);
      problems.push(`${pointer || 'the certificate'} ${message}: not an erasure certificate as the ledger issues`);
    }
    return { ok: false, signed, checkpointSigned: false, included: false, altered, problems };
  }
  const certificate = document as ErasureCertificate;
  const { checkpoint, forgetting } = certificate;
  const checkpointSigned = checkpointSignedBy(checkpoint, publicKey);
  if (!checkpointSigned)
    problems.push("/checkpoint: its signature does not hold (it was changed, or is another key's)");
  const records: Array<[string, ProvedRecord]> = [
    ['/forgetting', forgetting],
    ...certificate.confirmations.map((confirmation, index): [string, ProvedRecord] => [
      `/confirmations/${index}`,
      confirmation,
    ]),
  ];
  let included = true;
  for (const [pointer, record] of records) {
    if (underCheckpoint(record, checkpoint)) continue;
    included = false;
    problems.push(
      `${pointer}: its record (position, hash, recordedAt) is not under the checkpoint's root by ` +
        `${pointer}/inclusion (one of them, or the checkpoint, was changed)`,
    );
  }
  certificate.keysDestroyed.forEach(({ eventId }, index) => {
    if (eventId !== forgetting.eventId) problems.push(`/keysDestroyed/${index}/eventId is not the forgetting's`);
  });
  return { ok: problems.length === 0, signed, checkpointSigned, included, altered, problems };
}

/** Whether arrays and objects nest deeper than `levels`: the walks of a certificate recurse, and would overflow. */
function nestedDeeper(value: unknown, levels: number): boolean {
  if (value === null || typeof value !== 'object') return false;
  return levels === 0 || Object.values(value).some((item) => nestedDeeper(item, levels - 1));
}

type ProvedRecord = Pick<ErasureCertificate['forgetting'], 'position' | 'hash' | 'recordedAt' | 'inclusion'>;

/** Whether a record's inclusion proof leads to the checkpoint's root, in a tree of the checkpoint's size. */
function underCheckpoint(record: ProvedRecord, checkpoint: ErasureCertificate['checkpoint']): boolean {
  const { inclusion } = record;
  return (
    record.position <= checkpoint.position &&
    inclusion.treeSize === checkpoint.size &&
    rootOfInclusion(checkpoint.version, record, inclusion) === checkpoint.rootHash
  );
}

/** Why the signature fails: the certificate changed, another key, or the signature itself. */
function signatureProblem(given: Record<string, unknown>, altered: string[], publicKey: KeyObject): string {
  if (altered.length > 0) return '/signature does not hold over the certificate as it is';
  const key = publicKeyFingerprint(publicKey);
  if (typeof given['auditKey'] === 'string' && given['auditKey'] !== key) {
    return `/signature is not by the public key given (${key}): the certificate names audit key ${given['auditKey']}`;
  }
  return '/signature does not hold: it was changed, or the public key given is not the one that signed';
}
