import { expect } from 'chai';
import * as errors from '../../src/domain/errors.js';
import { fromWire, toWire } from '../../src/domain/wire-errors.js';

/** One instance of every LedgerError class: a class added to errors.ts without a row here fails. */
const samples: Record<string, () => errors.LedgerError> = {
  ValidationError: () =>
    new errors.ValidationError('data.email is missing', [{ index: 2, pointer: '/data', message: 'x' }]),
  PayloadTooLarge: () => new errors.PayloadTooLarge('too large'),
  UnknownContact: () => new errors.UnknownContact('C-1'),
  UnknownErasureRequest: () => new errors.UnknownErasureRequest('ER-1'),
  UnknownSubscriber: () => new errors.UnknownSubscriber('mailing-tool'),
  UnknownEvent: () => new errors.UnknownEvent('0190-id'),
  UnknownStream: () => new errors.UnknownStream('contact-C-1'),
  UnknownConsentLink: () => new errors.UnknownConsentLink(),
  ConsentLinkGone: () => new errors.ConsentLinkGone('expired'),
  ConcurrencyConflict: () => new errors.ConcurrencyConflict('contact-C-1', 3, 5),
  IdempotencyConflict: () => new errors.IdempotencyConflict('0190-id', 4),
  RuleViolation: () => new errors.RuleViolation('under legal hold', 'release the hold', { holds: 1 }),
  Forgotten: () => new errors.Forgotten('contact:C-1', 'E-9', 0),
  IntegrityError: () => new errors.IntegrityError('key missing', { eventId: 'E-1' }),
  UnknownApiKey: () => new errors.UnknownApiKey('K-1'),
  Unauthenticated: () => new errors.Unauthenticated(),
  Forbidden: () => new errors.Forbidden('publisher', 'operator'),
  SimulationOutdated: () => new errors.SimulationOutdated({ erased: { simulated: 3, now: 4 } }),
  TooManyRequests: () => new errors.TooManyRequests(30),
  StoreUnavailable: () => new errors.StoreUnavailable('57P01', new Error('terminating connection')),
  ReadModelsNotReady: () => new errors.ReadModelsNotReady('the e-mail index is being rebuilt'),
};

describe('errors crossing threads', () => {
  const classes = Object.values(errors).filter(
    (value): value is typeof errors.LedgerError =>
      typeof value === 'function' && value.prototype instanceof errors.LedgerError,
  );

  it('every LedgerError class has a sample here', () => {
    expect(classes.map((errorClass) => errorClass.name).sort()).to.deep.equal(Object.keys(samples).sort());
  });

  for (const [name, sample] of Object.entries(samples)) {
    it(`${name} arrives with its class, status, message and fields after a structured clone`, () => {
      const sent = sample();
      const received = fromWire(structuredClone(toWire(sent))) as errors.LedgerError;
      expect(received).to.be.instanceOf(errors.LedgerError).and.instanceOf(sent.constructor);
      expect(received.name).to.equal(name);
      expect(received.message).to.equal(sent.message);
      expect([received.status, received.title, received.type]).to.deep.equal([sent.status, sent.title, sent.type]);
      expect({ ...received }).to.deep.equal({ ...sent });
    });
  }

  it("StoreUnavailable (the bulk reader's lost database) stays an outage, its cause left on its thread", () => {
    const driver = Object.assign(new Error('Connection terminated unexpectedly'), { query: 'SELECT ...' });
    const received = fromWire(structuredClone(toWire(new errors.StoreUnavailable('ECONNRESET', driver))));
    expect(received).to.be.instanceOf(errors.StoreUnavailable).and.include({ status: 503, code: 'ECONNRESET' });
    expect(received.cause).to.equal(undefined);
  });

  it('another error arrives as an Error with its name, message and code', () => {
    const sent = Object.assign(new RangeError('disk full'), { code: 'SQLITE_FULL' });
    const received = fromWire(structuredClone(toWire(sent)));
    expect([received.name, received.message, (received as { code?: unknown }).code]).to.deep.equal([
      'RangeError',
      'disk full',
      'SQLITE_FULL',
    ]);
  });
});
