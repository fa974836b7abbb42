import { expect } from 'chai';
import { withheldScopes } from '../../src/domain/disclosure.js';

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
