import { expect } from 'chai';
import { foldContactView, type ViewEvent } from '../../src/domain/contact-view.js';

let n = 0;
const event = (type: string, data: Record<string, unknown>, extra: Partial<ViewEvent> = {}): ViewEvent =>
  ({
    id: `e${++n}`,
    type,
    occurredAt: `2024-01-${String(10 + (n % 18)).padStart(2, '0')}T00:00:00.000Z`,
    organizationId: 'ORG-A',
    data,
    erased: [],
    ...extra,
  }) as ViewEvent;

describe('personal view (fold of a contact stream)', () => {
  it('applies registration then partial rectification', () => {
    const view = foldContactView('C-1', [
      event('ContactRegistered', { role: 'individual', firstName: 'Alice', email: 'a@example.org' }),
      event('ContactDetailsChanged', { email: 'alice@example.org' }),
    ]);
    expect(view.details).to.deep.equal({ firstName: 'Alice', email: 'alice@example.org' });
    expect(view.role).to.equal('individual');
    expect(view.status).to.equal('active');
  });

  it('tracks flags: restriction, legal hold, balance, one remark per contact', () => {
    const view = foldContactView('C-1', [
      event('ContactRegistered', { role: 'individual' }),
      event('ProcessingRestricted', { reason: 'accuracy-contested' }),
      event('LegalHoldPlaced', { reason: 'litigation' }),
      event('RemarkSet', { text: 'first' }),
      event('RemarkSet', { text: 'second' }),
      event('BalanceChanged', { balance: -3, currency: 'EUR' }),
    ]);
    expect(view).to.deep.include({
      restricted: true,
      legalHold: true,
      remark: 'second',
      balance: { amount: -3, currency: 'EUR' },
    });
  });

  it('counts every organisation the contact dealt with', () => {
    const view = foldContactView('C-1', [
      event('ContactRegistered', { role: 'individual' }),
      event('WaitingListJoined', { productId: 'P-1' }, { organizationId: 'ORG-B' }),
    ]);
    expect(view.organizations).to.deep.equal(['ORG-A', 'ORG-B']);
  });

  it('lists erased fields and clears personal data from the moment of forgetting', () => {
    const view = foldContactView('C-1', [
      event('ContactRegistered', { role: 'individual' }, { erased: ['email', 'firstName'] }),
      event('NoteAdded', { noteId: 'N-1', text: 'still readable before the shred' }),
      event('ContactAnonymized', { reason: 'request', requestId: 'R-1', retained: { country: 'FR' } }),
    ]);
    expect(view.status).to.equal('anonymized');
    expect(view.erasedFields).to.deep.equal(['email', 'firstName']);
    expect(view.notes).to.deep.equal([{ noteId: 'N-1', text: null, at: view.notes[0]!.at }]);
    expect(view.retained).to.deep.equal({ country: 'FR' });
    expect(view.forgottenBy).to.include({ type: 'ContactAnonymized', reason: 'request' });
  });
});
