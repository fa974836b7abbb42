import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { envelopesOf, validateEnvelopes, MAX_BATCH } from '../../src/domain/envelope.js';
import { LedgerError, PayloadTooLarge, RuleViolation, ValidationError } from '../../src/domain/errors.js';
import { catalog, EVENT_TYPES } from '../../src/domain/catalog.js';
import { isOpaqueId } from '../../src/domain/identifiers.js';

const now = new Date('2026-11-23T12:00:00Z');
let ids = 0;
const options = { now, newId: () => `00000000-0000-4000-8000-${String(++ids).padStart(12, '0')}` };
const base = {
  type: 'NoteAdded',
  contactId: 'C-1',
  organizationId: 'ORG-A',
  occurredAt: '2026-03-01T10:00:00Z',
  data: { noteId: 'N-1', text: 'called back' },
};
const validate = (envelope: unknown) => validateEnvelopes([envelope], options);

function refusal(envelope: unknown): LedgerError {
  try {
    validate(envelope);
  } catch (error) {
    if (error instanceof LedgerError) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('envelope validation', () => {
  it('accepts a valid envelope, generates the id and normalises dates to UTC', () => {
    const [event] = validate({ ...base, occurredAt: '2026-03-01T12:00:00+02:00' });
    expect(event?.occurredAt).to.equal('2026-03-01T10:00:00.000Z');
    expect(event?.id).to.match(/^0{8}-/);
  });

  it('normalises instants inside data (product validity) as well', () => {
    const [event] = validate({
      ...base,
      type: 'TicketSold',
      data: { orderId: 'O-1', product: { kind: 'dated', validUntil: '2026-06-15T22:00:00+02:00' } },
    });
    expect((event?.data['product'] as { validUntil: string }).validUntil).to.equal('2026-06-15T20:00:00.000Z');
  });

  const badInputs: Array<[string, unknown, string]> = [
    ['unknown type', { ...base, type: 'TicketTeleported' }, '/type'],
    ['missing contactId', { ...base, contactId: undefined }, '/contactId'],
    ['contact id that is an e-mail', { ...base, contactId: 'alice@example.org' }, '/contactId'],
    ['contact id that is a phone number', { ...base, contactId: '+33612345678' }, '/contactId'],
    ['contact id that is a national phone number', { ...base, contactId: '06.12.34.56.78' }, '/contactId'],
    ['missing data field', { ...base, data: { noteId: 'N-1' } }, '/data/text'],
    ['mistyped data field', { ...base, data: { noteId: 'N-1', text: 42 } }, '/data/text'],
    [
      'unknown data field (could carry personal data in clear)',
      { ...base, data: { ...base.data, email: 'a@b.c' } },
      '/data/email',
    ],
    ['unknown envelope field', { ...base, extra: 1 }, '/extra'],
    ['impossible date (30 February)', { ...base, occurredAt: '2026-02-30T10:00:00Z' }, '/occurredAt'],
    ['date without a time zone', { ...base, occurredAt: '2026-03-01T10:00:00' }, '/occurredAt'],
    ['date out of range (year 1850)', { ...base, occurredAt: '1850-01-01T00:00:00Z' }, '/occurredAt'],
    ['occurredAt far in the future', { ...base, occurredAt: '2027-01-01T00:00:00Z' }, '/occurredAt'],
    [
      'birth date out of range',
      { ...base, type: 'ContactRegistered', data: { role: 'individual', birthDate: '3000-01-01' } },
      '/data/birthDate',
    ],
    ['unknown role', { ...base, type: 'ContactRegistered', data: { role: 'emperor' } }, '/data/role'],
    [
      'pre-checked consent',
      {
        ...base,
        type: 'ConsentGiven',
        data: { purpose: 'newsletter', source: 'form', wordingVersion: 'v1', preChecked: true },
      },
      '/data/preChecked',
    ],
    [
      'photo that is not base64',
      { ...base, type: 'PhotoRecorded', data: { photo: 'aGk', consentObtained: true } },
      '/data/photo',
    ],
    [
      'e-mail address in a clear wording version',
      {
        ...base,
        type: 'ConsentGiven',
        data: { purpose: 'newsletter', source: 'form', wordingVersion: 'v3 alice@example.org', preChecked: false },
      },
      '/data/wordingVersion',
    ],
    [
      'e-mail address in a clear url',
      { ...base, type: 'PolicyAccepted', data: { kind: 'privacy', url: 'mailto:alice@example.org', version: 'v1' } },
      '/data/url',
    ],
    [
      'phone number in a clear version',
      {
        ...base,
        type: 'PolicyAccepted',
        data: { kind: 'privacy', url: 'https://example.org/p', version: '+33 6 12 34 56 78' },
      },
      '/data/version',
    ],
    ['contact id that is a phone number without + or 00', { ...base, contactId: '33612345678' }, '/contactId'],
    [
      'dated product without end of validity',
      { ...base, type: 'TicketSold', data: { orderId: 'O-1', product: { kind: 'dated' } } },
      '/data/product/validUntil',
    ],
    [
      'validity ending before it starts',
      {
        ...base,
        type: 'TicketSold',
        data: {
          orderId: 'O-1',
          product: { kind: 'undated', validFrom: '2026-05-01T00:00:00Z', validUntil: '2026-04-01T00:00:00Z' },
        },
      },
      '/data/product/validUntil',
    ],
    [
      'free-text reason (reasons are codes)',
      { ...base, type: 'LegalHoldPlaced', data: { reason: 'Mr Smith sued us' } },
      '/data/reason',
    ],
    ['a note holding a terminal escape', { ...base, data: { noteId: 'N-1', text: 'ok \u001b[2J' } }, '/data/text'],
    [
      'a first name reversed by a bidirectional override',
      { ...base, type: 'ContactRegistered', data: { role: 'individual', firstName: 'Zo\u202Eé' } },
      '/data/firstName',
    ],
    ['a note ending in half a surrogate pair', { ...base, data: { noteId: 'N-1', text: 'x \uD83D' } }, '/data/text'],
    ['expectedRevision below -1', { ...base, expectedRevision: -2 }, '/expectedRevision'],
    ['id that is not a uuid', { ...base, id: 'abc' }, '/id'],
    ['empty rectification', { ...base, type: 'ContactDetailsChanged', data: {} }, '/data'],
    ['not an object', 'hello', ''],
  ];
  for (const [name, envelope, pointer] of badInputs) {
    it(`refuses ${name} with a 400 pointing at ${pointer || 'the body'}`, () => {
      const error = refusal(envelope);
      expect(error).to.be.instanceOf(ValidationError);
      expect(error.status).to.equal(400);
      const pointers = (error as ValidationError).issues.map((issue) => issue.pointer);
      expect(pointers).to.include(pointer);
    });
  }

  // Operator rules (the reference pages' duties): a 422 that says what to do.
  const unmetDuties: Array<[string, unknown, string, RegExp]> = [
    [
      'a photo without consent',
      { type: 'PhotoRecorded', data: { photo: 'aGk=', consentObtained: false } },
      '/data/consentObtained',
      /consent/,
    ],
    [
      'a payment alias without buyer consent',
      { type: 'PaymentAliasSaved', data: { alias: 'x', buyerConsent: false } },
      '/data/buyerConsent',
      /buyer/,
    ],
    [
      'a contact created on behalf of another without the legal mention',
      { type: 'ContactRegistered', data: { role: 'individual', createdOnBehalfOf: 'C-2', legalMentionShown: false } },
      '/data/legalMentionShown',
      /legal mention/,
    ],
    [
      'a policy acceptance without a url',
      { type: 'PolicyAccepted', data: { kind: 'terms', version: 'v2' } },
      '/data/url',
      /url and the version/,
    ],
  ];
  for (const [name, event, pointer, action] of unmetDuties) {
    it(`refuses ${name} with a 422 that says what to do`, () => {
      const error = refusal({ ...base, ...(event as object) });
      expect(error).to.be.instanceOf(RuleViolation);
      expect(error.status).to.equal(422);
      expect(error.details['action']).to.match(action);
      expect(error.details['errors']).to.deep.include({
        ...(error.details['errors'] as object[])[0],
        index: 0,
        pointer,
      });
    });
  }

  it('takes no UUID-based id for a phone number (a group of digits inside an id is not one)', () => {
    const ids = ['N-3fa85f64-0047-4562-8123-2c963f66afa6', ...Array.from({ length: 1999 }, () => `N-${randomUUID()}`)];
    const notes = ids.map((noteId) => ({ ...base, data: { noteId, text: 'ok' } }));
    expect(validateEnvelopes(notes.slice(0, 1000), options)).to.have.length(1000);
    expect(validateEnvelopes(notes.slice(1000), options)).to.have.length(1000);
  });

  it('accepts the same events once the duty is met', () => {
    const met = [
      { type: 'PhotoRecorded', data: { photo: 'aGk=', consentObtained: true } },
      { type: 'PaymentAliasSaved', data: { alias: 'x', buyerConsent: true } },
      { type: 'ContactRegistered', data: { role: 'individual', createdOnBehalfOf: 'C-2', legalMentionShown: true } },
      { type: 'PolicyAccepted', data: { kind: 'terms', url: 'https://example.org/terms', version: 'v2' } },
    ];
    expect(
      validateEnvelopes(
        met.map((event) => ({ ...base, ...event })),
        options,
      ),
    ).to.have.length(4);
  });

  it('never repeats the offending value in the error', () => {
    const error = refusal({ ...base, contactId: 'alice@example.org', data: { noteId: 'N-1', text: 'x'.repeat(5000) } });
    expect(JSON.stringify(error.details) + error.message).not.to.contain('alice@example.org');
  });

  it('refuses every ledger-only type with a 422', () => {
    for (const type of EVENT_TYPES.filter((t) => catalog[t].origin === 'ledger')) {
      const error = refusal({ ...base, type, data: {} });
      expect(error, type).to.be.instanceOf(RuleViolation);
      expect(error.status).to.equal(422);
    }
  });

  it('reports every problem of a batch with the index of its event', () => {
    try {
      validateEnvelopes([base, { ...base, type: 'Nope' }, base, { ...base, occurredAt: 'yesterday' }], options);
      expect.fail('should refuse');
    } catch (error) {
      expect((error as ValidationError).issues.map((issue) => issue.index)).to.deep.equal([1, 3]);
    }
  });

  it('refuses the same id twice in one batch', () => {
    const id = '0f9b6a3e-3d2a-4c55-9a57-5f0b8f6b2a10';
    expect(() =>
      validateEnvelopes(
        [
          { ...base, id },
          { ...base, id },
        ],
        options,
      ),
    ).to.throw(ValidationError);
  });

  it('splits a batch and refuses more than the maximum with a 413', () => {
    expect(envelopesOf({ events: [base, base] })).to.have.length(2);
    expect(envelopesOf(base)).to.deep.equal([base]);
    expect(() => envelopesOf({ events: Array(MAX_BATCH + 1).fill(base) })).to.throw(PayloadTooLarge);
    expect(() => envelopesOf({ events: [] })).to.throw(ValidationError);
  });
});

describe('opaque identifiers', () => {
  const cases: Array<[string, boolean]> = [
    ['C-1001', true],
    ['100045', true],
    ['ORG-A', true],
    ['123456789', true],
    ['alice@example.org', false],
    ['+33612345678', false],
    ['0612345678', false],
    ['06-12-34-56-78', false],
    ['0033612345678', false],
    ['', false],
    ['has space', false],
    ['-leading-dash', false],
  ];
  for (const [id, ok] of cases)
    it(`${ok ? 'accepts' : 'refuses'} ${JSON.stringify(id)}`, () => expect(isOpaqueId(id)).to.equal(ok));
});

describe('event catalog', () => {
  it('declares the personal fields and key scope of each type beside its schema', () => {
    expect(catalog.ContactRegistered.personalFields).to.have.members([
      'firstName',
      'lastName',
      'email',
      'phone',
      'birthDate',
      'gender',
      'address',
    ]);
    expect(catalog.TicketSold.personalFields).to.have.members(['beneficiary', 'answers', 'ipAddress']);
    expect(catalog.TicketSold.scope).to.equal('ticket');
    expect(catalog.OrderDataPurged.personalFields).to.deep.equal(['answers']);
    expect(catalog.OrderDataPurged.scope).to.equal('contact');
    expect(catalog.OrderRemarkSet.scope).to.equal('order');
    expect(catalog.ConsentGiven.personalFields).to.have.members(['ipAddress', 'operatorName', 'evidenceNote']);
    expect(catalog.ContactAnonymized.personalFields).to.deep.equal([]);
    expect(catalog.PaymentReceived.personalFields).to.deep.equal([]);
  });
});
