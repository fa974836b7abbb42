import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { validateEnvelopes } from '../../src/domain/envelope.js';
import { LedgerError } from '../../src/domain/errors.js';
import { PurposeSettings } from '../../src/domain/purposes.js';
import { cleanText, validatorFor } from '../../src/domain/validation.js';
import { Line } from '../../src/domain/schema-kit.js';

/** The text rules of the catalog (validation.ts): what people write passes, what hides or breaks a value does not. */
const now = new Date('2026-11-23T12:00:00Z');
const base = { contactId: 'C-1', organizationId: 'ORG-A', occurredAt: '2026-03-01T10:00:00Z' };
const pointersRefused = (type: string, data: Record<string, unknown>): string[] => {
  try {
    validateEnvelopes([{ ...base, id: randomUUID(), type, data }], { now, newId: randomUUID });
    return [];
  } catch (error) {
    if (!(error instanceof LedgerError)) throw error;
    return ((error.details['errors'] ?? []) as Array<{ pointer: string }>).map((issue) => issue.pointer);
  }
};
const changed = (data: Record<string, unknown>) =>
  pointersRefused('ContactDetailsChanged', { source: 'operator', ...data });

describe('text rules: text, line and version', () => {
  it('a one-line field (a name, an address line) holds no line break and is not blank or invisible', () => {
    expect(changed({ firstName: 'Jean\nDROP TABLE' })).to.deep.equal(['/data/firstName']);
    expect(changed({ lastName: 'Dupont\u2028x' })).to.deep.equal(['/data/lastName']);
    expect(changed({ lastName: ' \n ' })).to.deep.equal(['/data/lastName']);
    expect(changed({ lastName: '\u200B' })).to.deep.equal(['/data/lastName']);
    expect(changed({ address: { street: '12 rue des Lilas\r\n', town: 'Lyon' } })).to.deep.equal([
      '/data/address/street',
    ]);
  });

  it('right-to-left text wrapped in isolates (as apps copy a name) is accepted; an override is not', () => {
    expect(changed({ firstName: '\u2068محمد\u2069' })).to.deep.equal([]);
    expect(changed({ lastName: '\u2067כהן\u2069 Jr' })).to.deep.equal([]);
    expect(changed({ firstName: 'Zo\u202Eé' })).to.deep.equal(['/data/firstName']);
  });

  it('a wording version, kept in clear after a forgetting, is a version: no phone number in NBSPs, no name', () => {
    const consent = (wordingVersion: string) =>
      pointersRefused('ConsentGiven', { purpose: 'newsletter', source: 'form', wordingVersion, preChecked: false });
    for (const kept of ['v1', 'v3', 'portal-v2', 'privacy-center-fr-1', 'sms-v2', '2024.05']) {
      expect(consent(kept), kept).to.deep.equal([]);
    }
    // French typography writes a number with no-break spaces: the clear-value check misses it.
    expect(consent('v3 +33\u00A06\u00A012\u00A034\u00A056\u00A078')).to.deep.equal(['/data/wordingVersion']);
    expect(consent('+33\u202F6\u202F12\u202F34\u202F56\u202F78')).to.deep.equal(['/data/wordingVersion']);
    expect(consent('Jean Dupont')).to.deep.equal(['/data/wordingVersion']);
    const policy = pointersRefused('PolicyAccepted', {
      kind: 'privacy',
      url: 'https://example.org/p',
      version: 'v2\nJean Dupont',
    });
    expect(policy).to.deep.equal(['/data/version']);
  });

  it('a note hides no sentence in tag characters (invisible ASCII); an emoji flag keeps its tags', () => {
    const hidden = [...'diabetique'].map((c) => String.fromCodePoint(0xe0000 + c.codePointAt(0)!)).join('');
    const note = (text: string) => pointersRefused('NoteAdded', { noteId: 'N-1', text });
    expect(note(`Rappeler lundi${hidden}`)).to.deep.equal(['/data/text']);
    expect(note('Supporter \u{1F3F4}\u{E0067}\u{E0062}\u{E0065}\u{E006E}\u{E0067}\u{E007F}')).to.deep.equal([]);
  });

  it("a purpose's label, shown to the person on their page, follows the text rule too", () => {
    const isSettings = validatorFor(PurposeSettings);
    const labelled = (name: string) => ({ kind: 'consent', channel: 'email', labels: { en: { name } } });
    expect(isSettings(labelled('Newsletter'))).to.equal(true);
    for (const name of ['News\u202Eretteln', 'News\u0000', 'News \u001b[2J']) {
      expect(isSettings(labelled(name)), JSON.stringify(name)).to.equal(false);
    }
  });

  it("cleanText takes out what the rules refuse (a person's own page), and what it leaves passes them", () => {
    expect(cleanText('Zo\u202Eé\u0007 ', { oneLine: true })).to.equal('Zoé');
    expect(cleanText('12 rue\r\ndes Lilas', { oneLine: true })).to.equal('12 rue des Lilas');
    expect(cleanText('line one\nline two\u{E0041}', { oneLine: false })).to.equal('line one\nline two');
    const flag = 'Supporter \u{1F3F4}\u{E0067}\u{E0062}\u{E0065}\u{E006E}\u{E0067}\u{E007F}';
    expect(cleanText(flag, { oneLine: true })).to.equal(flag);
    const isLine = validatorFor(Line(200));
    for (const raw of ['a\u0000b', 'x\u202D\u202Ey', 'm\uD83Dn', 'p\u2028q\tr', 't\u{E0041}u']) {
      expect(isLine(cleanText(raw, { oneLine: true })), JSON.stringify(raw)).to.equal(true);
    }
  });
});
