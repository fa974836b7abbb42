import { expect } from 'chai';
import { foldRecencies, recencyFacts, recencyOf, type RecencyInput } from '../../src/domain/recency.js';
import { EVENT_TYPES, type EventType } from '../../src/domain/catalog.js';

let n = 0;
const at = (date: string) => `${date}T10:00:00.000Z`;
const event = (
  type: EventType,
  occurredAt: string,
  data: Record<string, unknown> = {},
  contactId = 'C-1',
): RecencyInput => ({ id: `e${++n}-${type}`, type, contactId, position: n, occurredAt: at(occurredAt), data });
const registered = (date: string, contactId = 'C-1') =>
  event('ContactRegistered', date, { role: 'individual' }, contactId);
const sale = (type: EventType, date: string, product: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  event(type, date, { orderId: `O-${n}`, product, ...extra });
const dated = (validUntil: string) => ({ kind: 'dated', validUntil: at(validUntil) });
const undated = { kind: 'undated' };
const consent = (type: 'ConsentGiven' | 'ConsentWithdrawn' | 'ConsentExpired', date: string, purpose: string) =>
  event(type, date, { purpose, source: 'portal', wordingVersion: 'v1', preChecked: false });

/** One row per rule of the reference page ("Contact inactivity period calculation"). */
const rules: Array<[string, RecencyInput[], string, string?]> = [
  ['no qualifying event: the creation date', [registered('2020-01-01')], '2020-01-01'],
  [
    'option taken, undated product: the order date',
    [registered('2020-01-01'), sale('OptionTaken', '2021-02-01', undated)],
    '2021-02-01',
  ],
  [
    'option confirmed, dated product: the end of validity',
    [registered('2020-01-01'), sale('OptionConfirmed', '2021-02-01', dated('2021-05-01'))],
    '2021-05-01',
  ],
  [
    'reservation, dated product',
    [registered('2020-01-01'), sale('ReservationMade', '2021-02-01', dated('2021-03-01'))],
    '2021-03-01',
  ],
  [
    'sale, dated product ending in the future: the future date',
    [registered('2020-01-01'), sale('TicketSold', '2026-10-01', dated('2027-06-30'))],
    '2027-06-30',
  ],
  [
    'sale, undated product: the order date',
    [registered('2020-01-01'), sale('TicketSold', '2022-07-01', undated)],
    '2022-07-01',
  ],
  [
    'payment does not qualify',
    [
      registered('2020-01-01'),
      sale('TicketSold', '2021-01-01', undated),
      event('PaymentReceived', '2023-01-01', { orderId: 'O-1', amount: 10 }),
    ],
    '2021-01-01',
  ],
  [
    'waiting list',
    [registered('2020-01-01'), event('WaitingListJoined', '2022-03-03', { productId: 'P-1' })],
    '2022-03-03',
  ],
  [
    'click on a marketing link',
    [registered('2020-01-01'), event('MarketingLinkClicked', '2022-04-04', { campaignId: 'CMP-1', channel: 'email' })],
    '2022-04-04',
  ],
  [
    'criterion change',
    [registered('2020-01-01'), event('CriterionChanged', '2022-05-05', { criterion: 'genre' })],
    '2022-05-05',
  ],
  [
    'consent given: a purpose is "yes" after it',
    [registered('2020-01-01'), consent('ConsentGiven', '2022-06-06', 'newsletter')],
    '2022-06-06',
  ],
  [
    'consent withdrawn while another purpose stays "yes"',
    [
      registered('2020-01-01'),
      consent('ConsentGiven', '2021-01-01', 'newsletter'),
      consent('ConsentGiven', '2021-02-02', 'sms'),
      consent('ConsentWithdrawn', '2022-07-07', 'sms'),
    ],
    '2022-07-07',
  ],
  [
    'consent withdrawn with no purpose left "yes" does not qualify',
    [
      registered('2020-01-01'),
      consent('ConsentGiven', '2021-01-01', 'newsletter'),
      consent('ConsentWithdrawn', '2022-08-08', 'newsletter'),
    ],
    '2021-01-01',
  ],
  [
    'a refusal alone does not qualify',
    [registered('2020-01-01'), consent('ConsentWithdrawn', '2022-08-08', 'newsletter')],
    '2020-01-01',
  ],
  [
    'a consent expiry is not an activity',
    [
      registered('2020-01-01'),
      consent('ConsentGiven', '2021-01-01', 'newsletter'),
      consent('ConsentGiven', '2021-01-02', 'sms'),
      consent('ConsentExpired', '2024-01-01', 'sms'),
    ],
    '2021-01-02',
  ],
  [
    'recency moves on a change only: an import re-sending the same "yes" is stored but is no action',
    [
      registered('2020-01-01'),
      consent('ConsentGiven', '2021-01-01', 'newsletter'),
      { ...consent('ConsentGiven', '2023-03-03', 'newsletter'), data: { purpose: 'newsletter', source: 'import' } },
    ],
    '2021-01-01',
  ],
  [
    'recency moves on a change only: the same "yes" from the portal again is no change either',
    [
      registered('2020-01-01'),
      consent('ConsentGiven', '2021-01-01', 'newsletter'),
      consent('ConsentGiven', '2023-03-03', 'newsletter'),
    ],
    '2021-01-01',
  ],
  [
    'recency moves on a change only: a withdrawal re-sent while another purpose is "yes"',
    [
      registered('2020-01-01'),
      consent('ConsentGiven', '2021-01-01', 'newsletter'),
      consent('ConsentWithdrawn', '2021-02-02', 'sms'),
      consent('ConsentWithdrawn', '2023-03-03', 'sms'),
    ],
    '2021-02-02',
  ],
  [
    'a "yes" given again after an expiry is a change',
    [
      registered('2020-01-01'),
      consent('ConsentGiven', '2021-01-01', 'newsletter'),
      consent('ConsentExpired', '2023-01-01', 'newsletter'),
      consent('ConsentGiven', '2023-03-03', 'newsletter'),
    ],
    '2023-03-03',
  ],
  [
    'non-qualifying contact events (rectification, note, remark, policy, balance)',
    [
      registered('2020-01-01'),
      event('ContactDetailsChanged', '2023-01-01', { role: 'relay' }),
      event('NoteAdded', '2023-01-02', { noteId: 'N' }),
      event('RemarkSet', '2023-01-03'),
      event('PolicyAccepted', '2023-01-04', { kind: 'privacy' }),
      event('BalanceChanged', '2023-01-05', { balance: 0, currency: 'EUR' }),
      event('MarketingOperationJoined', '2023-01-06', { operationId: 'M' }),
      event('StatusPageVisited', '2023-01-07'),
      event('AccountUpdated', '2023-01-08'),
    ],
    '2020-01-01',
  ],
  [
    'the latest date wins, whatever the order of arrival',
    [
      registered('2020-01-01'),
      sale('TicketSold', '2021-01-01', dated('2023-09-01')),
      sale('TicketSold', '2022-01-01', dated('2022-06-01')),
    ],
    '2023-09-01',
  ],
  [
    'a qualifying date older than the creation still replaces the creation fallback',
    [registered('2020-01-01'), sale('TicketSold', '2019-06-01', undated)],
    '2019-06-01',
  ],
  [
    'institution-wide: every organisation counts (no organisation in the rule)',
    [registered('2020-01-01'), { ...sale('TicketSold', '2022-02-02', undated) }],
    '2022-02-02',
  ],
  [
    'reference example: 15 June, then before the 1 August run a ticket for 1 September: 1 September',
    [
      registered('2018-01-01'),
      sale('TicketSold', '2018-05-01', dated('2018-06-15')),
      sale('TicketSold', '2018-07-10', dated('2018-09-01')),
    ],
    '2018-09-01',
  ],
];

describe('GDPR recency rules', () => {
  for (const [name, events, expected] of rules) {
    it(name, () => {
      const recency = recencyOf(foldRecencies(events).get('C-1')!);
      expect(recency?.date).to.equal(at(expected));
    });
  }

  it('names the event that set it and the basis', () => {
    const sold = sale('TicketSold', '2021-01-01', dated('2021-03-01'));
    const recency = recencyOf(foldRecencies([registered('2020-01-01'), sold]).get('C-1')!);
    expect(recency).to.deep.equal({ date: at('2021-03-01'), eventId: sold.id, basis: 'activity' });
    const fallback = registered('2020-01-01', 'C-2');
    expect(recencyOf(foldRecencies([fallback]).get('C-2')!)).to.deep.equal({
      date: at('2020-01-01'),
      eventId: fallback.id,
      basis: 'registration',
    });
  });

  it('between equal dates the earlier event wins, whatever the folding order', () => {
    const first = event('WaitingListJoined', '2022-01-01', { productId: 'P' });
    const second = event('MarketingLinkClicked', '2022-01-01', { campaignId: 'C', channel: 'sms' });
    const reg = registered('2020-01-01');
    for (const order of [
      [reg, first, second],
      [reg, second, first],
    ]) {
      expect(recencyOf(foldRecencies(order).get('C-1')!)?.eventId).to.equal(first.id);
    }
  });

  it('a sale counts for the cultural contact as well as the purchaser', () => {
    const sold = sale('TicketSold', '2022-02-02', dated('2022-12-24'), { culturalContactId: 'C-9' });
    const recencies = foldRecencies([registered('2020-01-01'), registered('2020-01-01', 'C-9'), sold]);
    expect(recencyOf(recencies.get('C-1')!)?.date).to.equal(at('2022-12-24'));
    expect(recencyOf(recencies.get('C-9')!)).to.deep.include({ date: at('2022-12-24'), eventId: sold.id });
  });

  it('has a rule for every event type of the catalog', () => {
    for (const type of EVENT_TYPES)
      expect(() => recencyFacts(event(type, '2020-01-01', { product: undated }))).not.to.throw();
  });
});
