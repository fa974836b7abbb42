import { expect } from 'chai';
import { decideOrderPurge, type OrderDataPurge, type OrderFact } from '../../src/domain/order-purge.js';
import { destroyedScopes } from '../../src/domain/forgetting.js';
import { keyScopeOf } from '../../src/domain/catalog.js';

/**
 * The order purge, one row per rule of ticketing-gdpr-features-v2.en.txt ("Removing a prospect /
 * anonymizing a contact"), decided on the buyer's stream as the batch reads it (seals opened).
 */
const CUTOFF = '2023-11-30T00:00:00.000Z';
const ENDED = '2022-06-01T20:00:00.000Z';
const VALID = '2024-06-01T20:00:00.000Z';
const IP = '198.51.100.7';

const sale = (ticketId: string | undefined, product: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  ({
    type: 'TicketSold',
    occurredAt: '2022-01-10T10:00:00.000Z',
    data: {
      orderId: 'O-1',
      ...(ticketId !== undefined ? { ticketId } : {}),
      product,
      beneficiary: { firstName: 'Zoé', email: `zoe.${ticketId ?? 'x'}@example.org`, address: { country: 'FR' } },
      ipAddress: IP,
      ...extra,
    },
  }) satisfies OrderFact;
const dated = (validUntil: string) => ({ kind: 'dated', validUntil });
const fact = (type: string, data: Record<string, unknown>): OrderFact => ({
  type,
  occurredAt: '2024-01-01T00:00:00.000Z',
  data,
});
const answers = [
  { questionType: 'text', value: 'Vegetarian menu' },
  { questionType: 'address', value: '12 rue des Lilas, Lyon' },
  { questionType: 'email', value: 'guest@example.org' },
];

const decide = (stream: OrderFact[], legalHold = false) =>
  decideOrderPurge(stream, 'O-1', { cutoff: CUTOFF, runId: 'RUN-1', legalHold });
const tickets = ({ events }: { events: OrderDataPurge[] }) => events.map((event) => event.data.ticketId ?? null);
/** What the shredder destroys for the decided events: the scopes whose seals become unreadable. */
const destroyed = ({ events }: { events: OrderDataPurge[] }) =>
  events.flatMap((event) => destroyedScopes({ ...event, stream: 'contact-C-1' }));
const scopeOf = (event: OrderFact) => keyScopeOf('TicketSold', 'C-1', event.data);

describe('order purge per ticket (decideOrderPurge)', () => {
  const cases: Array<{ rule: string; stream: OrderFact[]; legalHold?: boolean; purged: Array<string | null> }> = [
    {
      rule: 'a mixed order: the ended ticket is purged, the valid one is kept',
      stream: [sale('T-1', dated(ENDED)), sale('T-2', dated(VALID))],
      purged: ['T-1'],
    },
    {
      rule: 'every ticket ended: each is purged',
      stream: [sale('T-1', dated(ENDED)), sale('T-2', dated(ENDED))],
      purged: ['T-1', 'T-2'],
    },
    {
      rule: "an undated product's ticket ends on its sale date",
      stream: [sale('T-1', { kind: 'undated' })],
      purged: ['T-1'],
    },
    {
      rule: 'an undated product sold after the cutoff is kept',
      stream: [{ ...sale('T-1', { kind: 'undated' }), occurredAt: VALID }],
      purged: [],
    },
    {
      rule: 'an undated product with a validity ends on it',
      stream: [sale('T-1', { kind: 'undated', validUntil: VALID })],
      purged: [],
    },
    {
      rule: 'an option confirmed by a later sale ends with its latest event',
      stream: [{ ...sale('T-1', dated(ENDED)), type: 'OptionTaken' }, sale('T-1', dated(VALID))],
      purged: [],
    },
    {
      rule: 'a sale naming no ticket is the order one ticket (sales from before tickets had keys)',
      stream: [sale(undefined, dated(ENDED))],
      purged: [null],
    },
    {
      rule: 'a ticket purged already is not purged again',
      stream: [
        sale('T-1', dated(ENDED)),
        sale('T-2', dated(VALID)),
        fact('OrderDataPurged', { orderId: 'O-1', ticketId: 'T-1', orderEnded: false }),
      ],
      purged: [],
    },
    {
      rule: 'an order purged whole before ticket purges is done',
      stream: [sale('T-1', dated(ENDED)), fact('OrderDataPurged', { orderId: 'O-1' })],
      purged: [],
    },
    {
      rule: 'a legal hold blocks the purge, as it blocks every forgetting',
      stream: [sale('T-1', dated(ENDED))],
      legalHold: true,
      purged: [],
    },
  ];
  for (const { rule, stream, legalHold, purged } of cases) {
    it(rule, () => expect(tickets(decide(stream, legalHold))).to.deep.equal(purged));
  }

  it('says a hold kept something from the purge, and only then', () => {
    expect(decide([sale('T-1', dated(ENDED))], true).held).to.equal(true);
    expect(decide([sale('T-1', dated(VALID))], true).held).to.equal(false);
  });

  it("the ended ticket's beneficiary goes, its country kept; the valid ticket's key is untouched", () => {
    const stream = [sale('T-1', dated(ENDED)), sale('T-2', dated(VALID))];
    const decision = decide(stream);
    expect(decision.events[0]!.data.retained).to.deep.equal({ beneficiaryCountry: 'FR' });
    expect(destroyed(decision)).to.deep.equal([scopeOf(stream[0]!)]);
    expect(JSON.stringify(decision)).not.to.contain('zoe.');
  });

  it('text answers are carried over (sealed under the buyer key); address and e-mail answers go', () => {
    const decision = decide([sale('T-1', dated(ENDED), { answers })]);
    expect(decision.events[0]!.data.answers).to.deep.equal([{ questionType: 'text', value: 'Vegetarian menu' }]);
    expect(JSON.stringify(decision)).not.to.contain('Lilas').and.not.to.contain('guest@');
  });

  it("a forgotten buyer's purge carries nothing: the buyer key is gone", () => {
    const decision = decide([sale('T-1', dated(ENDED), { answers }), fact('ContactAnonymized', {})]);
    expect(tickets(decision)).to.deep.equal(['T-1']);
    expect(decision.events[0]!.data).not.to.have.property('answers');
  });

  it('the buyer IP stays while a ticket of the order is valid, and goes with the last one', () => {
    const mixed = [sale('T-1', dated(ENDED)), sale('T-2', dated(VALID))];
    const first = decide(mixed);
    // The IP is in the valid ticket's own seal, whose key no purge destroyed yet.
    expect(first.events.map((event) => event.data.orderEnded)).to.deep.equal([false]);
    expect(destroyed(first)).not.to.include(scopeOf(mixed[1]!));
    expect(JSON.stringify(first)).not.to.contain(IP);
    const later = [...mixed, fact('OrderDataPurged', first.events[0]!.data)];
    const last = decideOrderPurge(later, 'O-1', { cutoff: '2025-01-01T00:00:00.000Z', runId: 'R-2', legalHold: false });
    expect(tickets(last)).to.deep.equal(['T-2']);
    expect(last.events[0]!.data.orderEnded).to.equal(true);
    expect(destroyed(last)).to.deep.equal([scopeOf(mixed[1]!), 'order:O-1']);
  });

  it('of several tickets purged at once, only the last says the order ended', () => {
    const decision = decide([sale('T-1', dated(ENDED)), sale('T-2', dated(ENDED))]);
    expect(decision.events.map((event) => event.data.orderEnded)).to.deep.equal([false, true]);
  });
});
