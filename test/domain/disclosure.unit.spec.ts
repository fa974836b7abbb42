import { expect } from 'chai';
import { forTheBuyer, withheldScopes } from '../../src/domain/disclosure.js';

/** What a reader of a person's events is shown of what the keys could still open. */
describe("a forgotten person's request evidence (withheldScopes)", () => {
  const requested = (requestId: string) => ({ type: 'ErasureRequested', data: { requestId, channel: 'post' } });
  const registered = { type: 'ContactRegistered', data: { role: 'individual' } };

  const cases: Array<[string, Array<{ type: string; data: Record<string, unknown> }>, string[]]> = [
    ['a person not forgotten sees their own requests', [registered, requested('ER-1')], []],
    [
      'an anonymized person’s requests are withheld',
      [registered, requested('ER-1'), requested('ER-2'), { type: 'ContactAnonymized', data: { retained: {} } }],
      ['request:ER-1', 'request:ER-2'],
    ],
    ['an erased person’s too', [registered, requested('ER-1'), { type: 'ContactErased', data: {} }], ['request:ER-1']],
    [
      'an order purge forgets no person',
      [registered, requested('ER-1'), { type: 'OrderDataPurged', data: { orderId: 'O-1' } }],
      [],
    ],
  ];
  for (const [what, stream, scopes] of cases) {
    it(what, () => {
      expect(withheldScopes(stream)).to.deep.equal(new Map(scopes.map((scope) => [scope, 'request-evidence'])));
    });
  }
});

describe("a buyer's order as the buyer receives it (forTheBuyer, GDPR art. 15(4))", () => {
  const product = { kind: 'dated', validUntil: '2024-06-15T20:00:00.000Z' };
  const cases: Array<[string, string, Record<string, unknown>, Record<string, unknown> | null, string[]]> = [
    [
      'the beneficiary is named; their e-mail and address are withheld',
      'TicketSold',
      {
        orderId: 'O-1',
        product,
        beneficiary: { firstName: 'Jeanne', lastName: 'Martin', email: 'j@example.org', address: { town: 'Lyon' } },
      },
      { orderId: 'O-1', product, beneficiary: { firstName: 'Jeanne', lastName: 'Martin' } },
      ['beneficiary/email', 'beneficiary/address'],
    ],
    [
      'answers of type e-mail or address lose their value, text answers stay',
      'ReservationMade',
      {
        orderId: 'O-2',
        product,
        answers: [
          { questionType: 'text', value: 'aisle seat' },
          { questionType: 'email', value: 'j@example.org' },
          { questionType: 'address', value: '12 rue X' },
        ],
      },
      {
        orderId: 'O-2',
        product,
        answers: [
          { questionType: 'text', value: 'aisle seat' },
          { questionType: 'email' },
          { questionType: 'address' },
        ],
      },
      ['answers/1/value', 'answers/2/value'],
    ],
    [
      'a beneficiary named only, and text answers: nothing to withhold',
      'OptionTaken',
      {
        orderId: 'O-3',
        product,
        beneficiary: { firstName: 'Jeanne' },
        answers: [{ questionType: 'text', value: 'x' }],
      },
      null,
      [],
    ],
    ['not an order activity', 'NoteAdded', { noteId: 'N-1', text: 'j@example.org' }, null, []],
  ];
  for (const [what, type, data, shown, withheld] of cases) {
    it(what, () => {
      const result = forTheBuyer({ type, data });
      expect(result).to.deep.equal(shown === null ? null : { data: shown, withheld });
    });
  }
});
