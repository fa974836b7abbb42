import { expect } from 'chai';
import {
  decideConfigureSubscriber,
  decideRemoveSubscriber,
  decideRotateSecret,
  deliveryMessage,
  displayedUrl,
  foldSubscribers,
  signingSecretSeeds,
  webhookUrlIssue,
  type SubscriberEvent,
} from '../../src/domain/subscribers.js';
import { RuleViolation } from '../../src/domain/errors.js';

/** The subscribers' rules: what a configuration appends, when a secret is new, what a message holds. */
describe('subscribers (domain)', () => {
  const hook = { kind: 'webhook', url: 'https://crm.example.org/hook' } as const;
  const configured = (id: string, data: ReturnType<typeof decideConfigureSubscriber>): SubscriberEvent => ({
    type: 'SubscriberConfigured',
    id,
    occurredAt: '2026-01-01T00:00:00.000Z',
    data: data!,
  });

  it('the same configuration again, its types in another order, decides nothing', () => {
    const first = decideConfigureSubscriber(new Map(), 'crm', {
      ...hook,
      eventTypes: ['ContactErased', 'ConsentGiven'],
    });
    const state = foldSubscribers([configured('E-1', first)]);
    expect(
      decideConfigureSubscriber(state, 'crm', { ...hook, eventTypes: ['ConsentGiven', 'ContactErased'] }),
    ).to.equal(null);
    expect(decideConfigureSubscriber(state, 'crm', { ...hook, confirmsErasure: true })).to.not.equal(null);
  });

  it('a subscriber keeps the event that made it a webhook (its secret) until it changes kind or is removed', () => {
    const nats = decideConfigureSubscriber(new Map(), 'crm', { kind: 'nats', subject: 'ledger' });
    const webhook = decideConfigureSubscriber(new Map(), 'crm', hook);
    const other = decideConfigureSubscriber(new Map(), 'crm', { ...hook, confirmsErasure: true });
    const since = (events: SubscriberEvent[]) => foldSubscribers(events).get('crm')?.since;
    expect(since([configured('E-1', webhook), configured('E-2', other)])).to.equal('E-1');
    expect(since([configured('E-1', nats), configured('E-2', webhook)])).to.equal('E-2');
    const removed: SubscriberEvent = { type: 'SubscriberRemoved', id: 'E-2', occurredAt: '', data: { name: 'crm' } };
    expect(since([configured('E-1', webhook), removed, configured('E-3', webhook)])).to.equal('E-3');
    expect(decideRemoveSubscriber(foldSubscribers([configured('E-1', webhook), removed]), 'crm')).to.equal(null);
  });

  const urls: Array<[string, string | null]> = [
    ['https://crm.example.org/hook?token=x', null],
    ['http://localhost:8080/hook', null],
    ['http://127.0.0.1/hook', null],
    ['http://[::1]/hook', null],
    ['http://crm.example.org/hook', 'is not https (http only for localhost or 127.0.0.1)'],
    ['https://user:pass@crm.example.org/hook', 'holds a user or password (the signature authenticates)'],
    ['https://crm.example.org/hook#part', 'holds a fragment'],
    ['/hook', 'is not an absolute url'],
  ];
  for (const [url, issue] of urls) {
    it(`${url}: ${issue ?? 'taken'}`, () => expect(webhookUrlIssue(url)).to.equal(issue));
  }

  it('a rotation signs with the new secret, the one before too until its end; at most two; none for NATS', () => {
    const webhook = decideConfigureSubscriber(new Map(), 'crm', hook);
    const now = new Date('2026-01-02T00:00:00.000Z');
    const rotated = (id: string, state: ReturnType<typeof foldSubscribers>, hours: number): SubscriberEvent => ({
      type: 'SubscriberSecretRotated',
      id,
      occurredAt: now.toISOString(),
      data: decideRotateSecret(state, 'crm', now, hours)!,
    });
    const events = [configured('E-1', webhook)];
    events.push(rotated('E-2', foldSubscribers(events), 24));
    const once = foldSubscribers(events).get('crm')!;
    expect(once.previousSecret).to.deep.equal({ since: 'E-1', until: '2026-01-03T00:00:00.000Z' });
    expect(signingSecretSeeds(once, new Date('2026-01-02T23:59:59.999Z'))).to.deep.equal(['E-2', 'E-1']);
    expect(signingSecretSeeds(once, new Date('2026-01-03T00:00:00.000Z'))).to.deep.equal(['E-2']);
    // Configured again as a webhook: the secrets stay; made a NATS subscriber and back: a new one, no previous.
    const again = decideConfigureSubscriber(foldSubscribers(events), 'crm', { ...hook, confirmsErasure: true });
    expect(foldSubscribers([...events, configured('E-3', again)]).get('crm')).to.deep.include({
      secretSince: 'E-2',
      since: 'E-1',
    });
    const nats = decideConfigureSubscriber(new Map(), 'crm', { kind: 'nats', subject: 'ledger' });
    const back = foldSubscribers([...events, configured('E-3', nats), configured('E-4', webhook)]).get('crm')!;
    expect(back).to.deep.include({ secretSince: 'E-4', previousSecret: null });
    // Rotated again: the newest two only.
    events.push(rotated('E-5', foldSubscribers(events), 0));
    const twice = foldSubscribers(events).get('crm')!;
    expect(signingSecretSeeds(twice, new Date(now.getTime() - 1))).to.deep.equal(['E-5', 'E-2']);
    expect(signingSecretSeeds(twice, now)).to.deep.equal(['E-5']);
    expect(decideRotateSecret(new Map(), 'crm', now, 24)).to.equal(null);
    expect(() => decideRotateSecret(foldSubscribers([configured('E-1', nats)]), 'crm', now, 24)).to.throw(
      RuleViolation,
    );
  });

  it('shows and logs a url without its query', () => {
    expect(displayedUrl('https://crm.example.org/hook?token=secret')).to.equal('https://crm.example.org/hook?…');
    expect(displayedUrl('https://crm.example.org/hook')).to.equal('https://crm.example.org/hook');
  });

  it('a message is the clear part of a contact event of the subscribed types; nothing else is sent', () => {
    const event = {
      id: 'E-1',
      type: 'ConsentWithdrawn',
      stream: 'contact-C-1',
      organizationId: 'ORG-A',
      occurredAt: '2026-01-01T00:00:00.000Z',
      position: 9,
      data: { purpose: 'newsletter', source: 'portal' },
    };
    const subscriber = { eventTypes: ['ConsentWithdrawn' as const] };
    expect(deliveryMessage(subscriber, event)).to.deep.equal({
      id: 'E-1',
      type: 'ConsentWithdrawn',
      contactId: 'C-1',
      organizationId: 'ORG-A',
      occurredAt: '2026-01-01T00:00:00.000Z',
      position: 9,
      data: { purpose: 'newsletter', source: 'portal' },
    });
    expect(deliveryMessage(subscriber, { ...event, type: 'ConsentGiven' })).to.equal(null);
    expect(deliveryMessage(subscriber, { ...event, stream: 'purposes' })).to.equal(null);
  });
});
