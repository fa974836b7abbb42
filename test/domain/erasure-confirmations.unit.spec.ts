import { expect } from 'chai';
import { confirmersOf, decideConfirmErasure } from '../../src/domain/erasure-confirmations.js';
import { foldErasureRequests, statusAt } from '../../src/domain/erasure-requests.js';
import { foldSubscribers, type SubscriberConfiguration } from '../../src/domain/subscribers.js';

/** Acknowledged erasure: who a forgetting waits for, what an acknowledgement records, when a request is done. */
describe('erasure confirmations (domain)', () => {
  const at = (day: number) => new Date(Date.UTC(2026, 0, day)).toISOString();
  const subscriber = (name: string, settings: Partial<SubscriberConfiguration> = {}): SubscriberConfiguration =>
    ({
      name,
      kind: 'nats',
      subject: name,
      eventTypes: ['ContactAnonymized', 'ContactErased'],
      confirmsErasure: true,
      ...settings,
    }) as SubscriberConfiguration;
  let position = 0;
  const event = (stream: string, type: string, data: Record<string, unknown>, day = 1) => ({
    id: `E-${++position}`,
    position,
    type,
    stream,
    occurredAt: at(day),
    data,
  });
  const configured = (settings: SubscriberConfiguration, day = 1) =>
    event('subscribers', 'SubscriberConfigured', { ...settings }, day);
  const requested = (contactId: string, requestId: string) =>
    event(`contact-${contactId}`, 'ErasureRequested', { requestId, channel: 'email' });
  const erased = (contactId: string, day = 2) =>
    event(`contact-${contactId}`, 'ContactErased', { reason: 'request', requestId: 'R-1' }, day);
  const confirmed = (contactId: string, name: string, eventId: string, day = 3) =>
    event(`contact-${contactId}`, 'ErasureConfirmed', { subscriber: name, eventId }, day);

  it('a forgetting waits for the subscribers that confirm erasure and hear its type, as configured then', () => {
    const state = foldSubscribers([
      { type: 'SubscriberConfigured', id: 'S-1', occurredAt: at(1), data: subscriber('crm') },
      { type: 'SubscriberConfigured', id: 'S-2', occurredAt: at(1), data: subscriber('mail') },
      {
        type: 'SubscriberConfigured',
        id: 'S-3',
        occurredAt: at(1),
        data: subscriber('bi', { confirmsErasure: false }),
      },
      {
        type: 'SubscriberConfigured',
        id: 'S-4',
        occurredAt: at(1),
        data: subscriber('shop', { eventTypes: ['OrderDataPurged'] }),
      },
    ]);
    expect(confirmersOf(state, 'ContactErased')).to.deep.equal(['crm', 'mail']);
    expect(confirmersOf(state, 'OrderDataPurged')).to.deep.equal(['shop']);
  });

  it('a request is awaiting confirmation after the forgetting, done once every awaited subscriber confirmed', () => {
    const forgetting = erased('C-1');
    const late = configured(subscriber('late'), 2);
    const events = [configured(subscriber('crm')), configured(subscriber('mail')), requested('C-1', 'R-1'), forgetting];
    const fold = (...more: ReturnType<typeof event>[]) => foldErasureRequests([...events, late, ...more]).get('R-1')!;
    expect(fold()).to.deep.include({
      status: 'awaiting-confirmation',
      downstream: [
        { subscriber: 'crm', status: 'pending', confirmedBy: null },
        { subscriber: 'mail', status: 'pending', confirmedBy: null },
      ],
    });
    const crm = confirmed('C-1', 'crm', forgetting.id);
    expect(fold(crm).status).to.equal('awaiting-confirmation');
    const done = fold(crm, confirmed('C-1', 'crm', forgetting.id), confirmed('C-1', 'mail', forgetting.id, 4));
    expect(done.status).to.equal('done');
    expect(done.downstream[0]).to.deep.equal({
      subscriber: 'crm',
      status: 'confirmed',
      confirmedBy: { eventId: crm.id, at: at(3) },
    });
  });

  it('with no subscriber to wait for, the forgetting makes the request done at once, as before', () => {
    const events = [configured(subscriber('bi', { confirmsErasure: false })), requested('C-2', 'R-2'), erased('C-2')];
    expect(foldErasureRequests(events).get('R-2')).to.deep.include({ status: 'done', downstream: [] });
  });

  it('a request still awaiting a subscriber past its due date is overdue', () => {
    const events = [configured(subscriber('crm')), requested('C-3', 'R-3'), erased('C-3')];
    const request = foldErasureRequests(events).get('R-3')!;
    expect(statusAt(request, new Date(request.dueAt))).to.equal('awaiting-confirmation');
    expect(statusAt(request, new Date(Date.parse(request.dueAt) + 1))).to.equal('overdue');
  });

  describe('an acknowledgement', () => {
    const then = foldSubscribers([
      { type: 'SubscriberConfigured', id: 'S-1', occurredAt: at(1), data: subscriber('crm') },
      {
        type: 'SubscriberConfigured',
        id: 'S-2',
        occurredAt: at(1),
        data: subscriber('bi', { confirmsErasure: false }),
      },
    ]);
    const now = foldSubscribers([
      { type: 'SubscriberConfigured', id: 'S-3', occurredAt: at(2), data: subscriber('late') },
    ]);
    const forgetting = { id: 'E-9', type: 'ContactErased', position: 9, data: { reason: 'request', requestId: 'R-9' } };
    const state = { event: forgetting, subscribersThen: then, subscribersNow: now, confirmed: new Set<string>() };

    it('of an awaited subscriber records its name, the forgetting and the request it closed', () => {
      expect(decideConfirmErasure(state, 'crm', 'K-1')).to.deep.equal({
        subscriber: 'crm',
        eventId: 'E-9',
        requestId: 'R-9',
        keyId: 'K-1',
      });
    });
    it('by a subscriber key issued before or after the forgetting, that name not removed in between', () => {
      for (const issuedAt of [2, 12]) {
        const key = { issuedAt, removedAt: [1, 14] };
        expect(decideConfirmErasure({ ...state, key }, 'crm', 'K-1')).to.deep.include({
          subscriber: 'crm',
          eventId: 'E-9',
        });
      }
    });
    it('already given records nothing', () => {
      expect(decideConfirmErasure({ ...state, confirmed: new Set(['crm']) }, 'crm', 'K-1')).to.equal(null);
    });
    const keyed = (issuedAt: number, removedAt: number[]) => ({ ...state, key: { issuedAt, removedAt } });
    const refusals: Array<[string, Parameters<typeof decideConfirmErasure>[0], string, number]> = [
      ['of a subscriber configured neither then nor now: 404', state, 'nobody', 404],
      ['of a subscriber that does not confirm erasure: 422', state, 'bi', 422],
      ['of a subscriber configured after the forgetting: 422', state, 'late', 422],
      ['by a key issued before the name was removed, then configured again: 403', keyed(2, [5]), 'crm', 403],
      ['by a key issued to the name configured again after a removal: 403', keyed(12, [10]), 'crm', 403],
      ['of an event that forgets nothing: 422', { ...state, event: { ...forgetting, type: 'NoteAdded' } }, 'crm', 422],
    ];
    for (const [title, given, name, status] of refusals) {
      it(title, () =>
        expect(() => decideConfirmErasure(given, name, 'K-1'))
          .to.throw()
          .with.property('status', status),
      );
    }
  });
});
