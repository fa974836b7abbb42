import { Type, type Static } from '@sinclair/typebox';
import { CONTACT_FORGETTING_TYPES } from './catalog.js';
import { Instant, Nullable, Obj, OneOf } from './schema-kit.js';

/**
 * An erasure certificate (issue 27): what proves offline, to the person or a supervisory
 * authority, that a request was executed and its keys destroyed, with nothing personal in it: ids,
 * codes, dates, positions and hashes. Signed with the ledger's audit key (src/crypto/erasure-certificate.ts).
 */
export const CERTIFICATE_KIND = 'contact-ledger erasure certificate v1' as const;

const Sha256 = (description: string) => Type.String({ pattern: '^[0-9a-f]{64}$', description });
const Position = (description: string) => Type.Integer({ minimum: 0, description });

const Inclusion = Obj(
  {
    leafIndex: Type.Integer({ minimum: 0 }),
    treeSize: Type.Integer({ minimum: 1 }),
    path: Type.Array(Sha256('a sibling subtree hash')),
  },
  { description: "RFC 9162 inclusion proof of the record under the checkpoint's root" },
);

/** A record as the log holds it: what its inclusion proof starts from. */
const logged = {
  position: Position('its position in the log'),
  recordedAt: Instant(),
  hash: Sha256("the record's chain hash (sha256 of its stream's previous hash and its canonical JSON)"),
  inclusion: Inclusion,
};

/** Everything the signature covers but the digests (the certificate as the ledger states it). */
export const certificateFields = {
  certificate: Type.Literal(CERTIFICATE_KIND),
  issuedAt: Instant(),
  request: Obj({ requestId: Type.String(), channel: Type.String(), contactId: Type.String(), requestedAt: Instant() }),
  forgetting: Obj(
    { eventId: Type.String(), type: OneOf(CONTACT_FORGETTING_TYPES), occurredAt: Instant(), ...logged },
    { description: 'the forgetting event that executed the request, as the log holds it' },
  ),
  keysDestroyed: Type.Array(
    Obj({
      scope: Type.String(),
      keyId: Nullable(Type.String({ description: 'null: the scope never had a key, and never will' })),
      shreddedAt: Instant(),
      reason: Type.String(),
      eventId: Nullable(Type.String({ description: 'the forgetting that destroyed it' })),
    }),
    { description: 'the tombstones of the keys the forgetting destroyed (no key material is kept)' },
  ),
  confirmations: Type.Array(
    Obj({ subscriber: Type.String(), eventId: Type.String(), confirmedAt: Instant(), ...logged }),
    {
      description:
        'each downstream system that confirmed it erased its copy (its ErasureConfirmed event), as the log holds it',
    },
  ),
  awaitingConfirmation: Type.Array(Type.String(), {
    description: 'the subscribers (confirmsErasure) whose confirmation is still awaited: none once the request is done',
  }),
  checkpoint: Obj(
    {
      version: Type.Union([Type.Literal(1), Type.Literal(2)], { description: 'the form of its leaves' }),
      position: Position('the last record it covers: at or after the forgetting and the confirmations'),
      size: Type.Integer({ minimum: 1 }),
      rootHash: Sha256('the Merkle tree hash of the records it covers'),
      time: Instant(),
      signature: Type.String({ description: 'Ed25519 by the audit key, base64 (as GET /v1/audit/checkpoint)' }),
    },
    { description: 'a signed checkpoint of the log covering the forgetting and the confirmations' },
  ),
  auditKey: Sha256('SHA-256 of the audit public key (DER SubjectPublicKeyInfo): which key signed'),
};

export const ErasureCertificate = Obj(
  {
    ...certificateFields,
    digests: Type.Record(Type.String(), Sha256('SHA-256, hex'), {
      description:
        "SHA-256 of each value's canonical JSON by its JSON Pointer: what names a value changed after signing",
    }),
    signature: Type.String({
      description:
        `Ed25519 by the audit key, base64, over "${CERTIFICATE_KIND}\\n" and the RFC 8785 canonical JSON ` +
        'of the rest',
    }),
  },
  { title: 'ErasureCertificate' },
);
export type ErasureCertificate = Static<typeof ErasureCertificate>;
export type CertificateFields = Omit<ErasureCertificate, 'digests' | 'signature'>;
