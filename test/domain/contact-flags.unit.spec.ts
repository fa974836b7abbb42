import { expect } from 'chai';
import { ordersUnderRestriction } from '../../src/domain/contact-flags.js';
import type { EventType } from '../../src/domain/catalog.js';

const event = (type: EventType, contactId = 'C-1') => ({ type, contactId, data: {} });

/** GDPR art. 18: an order activity of a restricted contact is recorded, and the publisher told. */
describe('order activities under a restriction of processing', () => {
  const rows: Array<[string, string[], ReturnType<typeof event>[], number[]]> = [
    ['a sale of a contact restricted before the batch', ['C-1'], [event('TicketSold')], [0]],
    [
      'every order activity: option, confirmation, reservation, sale',
      ['C-1'],
      [event('OptionTaken'), event('OptionConfirmed'), event('ReservationMade'), event('TicketSold')],
      [0, 1, 2, 3],
    ],
    ['a sale of another contact', ['C-1'], [event('TicketSold', 'C-2')], []],
    ['what is not an order activity', ['C-1'], [event('NoteAdded'), event('PaymentReceived')], []],
    ['a restriction earlier in the batch', [], [event('ProcessingRestricted'), event('TicketSold')], [1]],
    ['a restriction later in the batch', [], [event('TicketSold'), event('ProcessingRestricted')], []],
    ['a lift earlier in the batch', ['C-1'], [event('RestrictionLifted'), event('TicketSold')], []],
  ];
  for (const [what, restricted, events, expected] of rows) {
    it(`${what}: ${expected.length > 0 ? `warns about ${expected.join(', ')}` : 'no warning'}`, () =>
      expect(ordersUnderRestriction(new Set(restricted), events)).to.deep.equal(expected));
  }
});
