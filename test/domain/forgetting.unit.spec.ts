import { expect } from 'chai';
import { decideAnonymization, destroyedScopes, hiddenScopes } from '../../src/domain/forgetting.js';
import { foldContactView, type ViewEvent } from '../../src/domain/contact-view.js';
import { RuleViolation, UnknownContact } from '../../src/domain/errors.js';

const now = new Date('2026-11-23T12:00:00Z');
let n = 0;
const event = (type: string, data: Record<string, unknown>, occurredAt = '2024-01-01T00:00:00.000Z'): ViewEvent =>
  ({ id: `e${++n}`, type, position: n, occurredAt, organizationId: 'ORG-A', data, erased: [] }) as ViewEvent;
const registration = event('ContactRegistered', {
  role: 'individual',
  firstName: 'Alice',
  email: 'alice@example.org',
  address: { street: '1 rue X', town: 'Lyon', postcode: '69001', country: 'FR' },
});
const given = (...events: ViewEvent[]) => foldContactView('C-1', [registration, ...events]);
const request = { reason: 'request' as const, requestId: 'REQ-1' };

describe('forgetting a contact (decideAnonymization)', () => {
  it('keeps country, town and postcode only, and says who asked and why', () => {
    const decision = decideAnonymization(given(), { ...request, operatorId: 'OP-7' }, now);
    expect(decision).to.deep.equal({
      type: 'ContactAnonymized',
      data: {
        reason: 'request',
        requestId: 'REQ-1',
        operatorId: 'OP-7',
        retained: { country: 'FR', town: 'Lyon', postcode: '69001' },
      },
    });
  });

  it('retains only the address parts it has', () => {
    const view = foldContactView('C-1', [event('ContactRegistered', { role: 'relay', address: { country: 'CH' } })]);
    expect(decideAnonymization(view, request, now)?.data.retained).to.deep.equal({ country: 'CH' });
  });

  const refusals: Array<[string, ViewEvent[], RegExp]> = [
    ['under legal hold', [event('LegalHoldPlaced', { reason: 'litigation' })], /legal hold/],
    ['a debtor', [event('BalanceChanged', { balance: -12.5, currency: 'EUR' })], /debtor or creditor/],
    ['a creditor', [event('BalanceChanged', { balance: 40, currency: 'EUR' })], /debtor or creditor/],
    [
      'holding a ticket still valid',
      [event('TicketSold', { orderId: 'O-1', product: { kind: 'dated', validUntil: '2027-01-01T00:00:00.000Z' } })],
      /still valid/,
    ],
  ];
  for (const [name, events, message] of refusals) {
    it(`refuses a contact ${name} (422 with what to do)`, () => {
      expect(() => decideAnonymization(given(...events), request, now)).to.throw(RuleViolation, message);
    });
  }

  const allowed: Array<[string, ViewEvent[]]> = [
    [
      'whose legal hold was released',
      [event('LegalHoldPlaced', { reason: 'litigation' }), event('LegalHoldReleased', { reason: 'closed' })],
    ],
    [
      'whose balance was settled',
      [
        event('BalanceChanged', { balance: -5, currency: 'EUR' }),
        event('BalanceChanged', { balance: 0, currency: 'EUR' }),
      ],
    ],
    [
      'whose tickets all ended validity',
      [event('TicketSold', { orderId: 'O-1', product: { kind: 'dated', validUntil: '2025-01-01T00:00:00.000Z' } })],
    ],
  ];
  for (const [name, events] of allowed) {
    it(`forgets a contact ${name}`, () => {
      expect(decideAnonymization(given(...events), request, now)?.type).to.equal('ContactAnonymized');
    });
  }

  it('is idempotent: nothing to append for a contact already forgotten', () => {
    const forgotten = given(event('ContactAnonymized', { reason: 'request', requestId: 'REQ-0', retained: {} }));
    expect(decideAnonymization(forgotten, request, now)).to.equal(null);
  });

  it('refuses an unknown contact', () => {
    expect(() => decideAnonymization(foldContactView('C-9', []), request, now)).to.throw(UnknownContact);
  });
});

describe('forgotten scopes', () => {
  const logged = (type: string, data: Record<string, unknown>, stream = 'contact-C-1', id = `E-${type}`) => ({
    id,
    type,
    stream,
    data,
  });
  const stream = [
    logged('ContactRegistered', { role: 'individual' }),
    logged('TicketSold', { orderId: 'O-1', product: { kind: 'undated' } }),
    logged('ReservationMade', { orderId: 'O-2', product: { kind: 'undated' } }),
    logged('OrderRemarkSet', { orderId: 'O-3' }),
    logged('PaymentReceived', { orderId: 'O-1', amount: 10 }),
    logged('TicketSold', { orderId: 'O-1', product: { kind: 'undated' } }),
    logged('TicketSold', { orderId: 'O-4', ticketId: 'T-1', product: { kind: 'undated' } }),
    logged('OptionTaken', { orderId: 'O-4', ticketId: 'T-2', product: { kind: 'undated' } }),
  ];

  it('forgetting a contact destroys its key; its orders keep theirs until purged', () => {
    expect(destroyedScopes(logged('ContactAnonymized', {}))).to.deep.equal(['contact:C-1']);
    expect(destroyedScopes(logged('ContactErased', {}))).to.deep.equal(['contact:C-1']);
  });

  it('a purge from before ticket purges (neither ticketId nor orderEnded) destroys that order key only', () => {
    expect(destroyedScopes(logged('OrderDataPurged', { orderId: 'O-2' }))).to.deep.equal(['order:O-2']);
  });

  it("purging a ticket destroys that ticket's key; the order's last also the order's own key", () => {
    const purge = (data: Record<string, unknown>) => destroyedScopes(logged('OrderDataPurged', data));
    expect(purge({ orderId: 'O-4', ticketId: 'T-1', orderEnded: false })).to.deep.equal(['order:O-4/T-1']);
    expect(purge({ orderId: 'O-4', ticketId: 'T-2', orderEnded: true })).to.deep.equal(['order:O-4/T-2', 'order:O-4']);
    expect(purge({ orderId: 'O-1', orderEnded: false })).to.deep.equal(['order:O-1']);
  });

  it('other events forget nothing', () => {
    expect(destroyedScopes(logged('NoteAdded', {}))).to.deep.equal([]);
  });

  it("a forgotten contact's orders are hidden from every reader, though their keys are kept", () => {
    const forgotten = [...stream, logged('ContactAnonymized', {}, 'contact-C-1', 'E-forget')];
    expect(hiddenScopes(forgotten)).to.deep.equal(
      new Map(
        ['contact:C-1', 'order:O-1', 'order:O-2', 'order:O-3', 'order:O-4/T-1', 'order:O-4/T-2'].map((scope) => [
          scope,
          'E-forget',
        ]),
      ),
    );
    const purged = [...stream, logged('OrderDataPurged', { orderId: 'O-2' }, 'contact-C-1', 'E-purge')];
    expect(hiddenScopes(purged)).to.deep.equal(new Map([['order:O-2', 'E-purge']]));
    expect(hiddenScopes(stream)).to.deep.equal(new Map());
  });
});
