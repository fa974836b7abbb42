import { createHmac, timingSafeEqual } from 'node:crypto';
import { decrypt, encrypt } from './aead.js';
import type { MasterKey } from './master-key.js';

const PREFIX = 'cl1.';
/** Domain separation: a box made for anything else never opens as a consent link, nor the reverse. */
const LINK_AAD = Buffer.from('contact-ledger consent link v1');

/**
 * Self-service consent links: a token that holds the contact id and an expiry, encrypted and
 * authenticated (AES-256-GCM) under a key derived from the master key for this one purpose. The
 * token shows nothing (no id, no personal data) and cannot be forged or extended; it is no key to
 * anything else. Whether the person is forgotten is checked by the caller at each use.
 */
export class ConsentLinks {
  private readonly key: Buffer;
  private readonly formKey: Buffer;

  constructor(masterKey: MasterKey) {
    this.key = masterKey.deriveKey('consent link v1');
    this.formKey = masterKey.deriveKey('consent link form v1');
  }

  /**
   * The anti-forgery token of the forms of a link's page (the privacy center): an HMAC of the link
   * under a key of its own, so a form posted from another site, which cannot read the page, cannot
   * carry it; bound to the link, it is no use on another person's page.
   */
  formToken(token: string): string {
    return createHmac('sha256', this.formKey).update(token).digest('base64url');
  }

  /** Whether a posted form token is the link's own (compared in constant time). */
  checkFormToken(token: string, candidate: unknown): boolean {
    if (typeof candidate !== 'string' || candidate.length > 100) return false;
    const expected = Buffer.from(this.formToken(token));
    const given = Buffer.from(candidate);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  issue(contactId: string, expiresAt: Date): string {
    const plaintext = Buffer.from(JSON.stringify([contactId, Math.floor(expiresAt.getTime() / 1000)]));
    const { iv, tag, ciphertext } = encrypt(this.key, plaintext, LINK_AAD);
    return PREFIX + Buffer.concat([iv, tag, ciphertext]).toString('base64url');
  }

  /** The contact and expiry of a token made here, or null for anything else (forged, altered, truncated). */
  open(token: string): { contactId: string; expiresAt: Date } | null {
    if (!token.startsWith(PREFIX) || token.length > 600) return null;
    const encoded = token.slice(PREFIX.length);
    const bytes = Buffer.from(encoded, 'base64url');
    // Only the spelling issued: the decoder skips characters outside its alphabet and padding, and
    // another spelling of the same bytes would be another link to the rate limit and the form token.
    if (bytes.length < 29 || bytes.toString('base64url') !== encoded) return null;
    try {
      const plaintext = decrypt(
        this.key,
        { iv: bytes.subarray(0, 12), tag: bytes.subarray(12, 28), ciphertext: bytes.subarray(28) },
        LINK_AAD,
      );
      const [contactId, seconds] = JSON.parse(plaintext.toString('utf8')) as [string, number];
      return { contactId, expiresAt: new Date(seconds * 1000) };
    } catch {
      return null;
    }
  }
}
