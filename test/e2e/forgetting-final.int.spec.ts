import { expect } from 'chai';
import { openTestLedger, type TestLedger } from '../support/ledger.js';
import {
  consentGiven,
  person,
  personalValues,
  registered,
  ticketSold,
  configureTestPurposes,
} from '../support/events.js';
import { openLedger, type OpenLedger } from '../../src/app/open-ledger.js';
import { createLogger } from '../../src/log.js';
import { publish } from '../../src/app/publish.js';
import { forgetContact } from '../../src/app/forget-contact.js';
import { contactTimeline } from '../../src/app/contact-timeline.js';
import { exportContact } from '../../src/app/export-contact.js';
import { runInactiveBatch } from '../../src/app/inactive-contacts-batch.js';
import { Forgotten } from '../../src/domain/errors.js';
import { startApi, type Api } from '../support/http.js';

/**
 * Forgetting is final at once, everywhere (DESIGN.md "Forgetting"): a second ledger on the same
 * storage (another process or node) forgets a contact, and this one, whose key cache holds the
 * contact's keys and whose shredder reaction is not running, neither serves the plaintext nor
 * seals new personal data for it: the log decides, not the cache.
 */
describe('forgetting is final at once, across ledgers on the same storage', function () {
  this.timeout(60_000);
  let here: TestLedger;
  let elsewhere: OpenLedger;
  let api: Api;
  const p = person();

  before(async () => {
    here = await openTestLedger();
    await configureTestPurposes(here);
    await publish(here, { events: [registered(p), ticketSold(p, 'O-final'), consentGiven(p)] });
    // Warm this ledger's key cache: it opens every seal of the contact.
    const warm = JSON.stringify(await contactTimeline(here, p.contactId));
    expect(warm).to.contain(p.email);
    await here.runner.catchUp(); // this ledger's read models list the person, then stop following the log
    api = await startApi(here);
    elsewhere = await openLedger(here.config, createLogger('silent'));
    await forgetContact(elsewhere, p.contactId, { reason: 'request', requestId: 'REQ-final' });
  });
  after(async () => {
    await api.close();
    await elsewhere.close();
    await here.dispose();
  });

  it('a timeline or an export read here at once holds nothing personal, whatever the cache holds', async () => {
    const timeline = await contactTimeline(here, p.contactId);
    expect(timeline.map((event) => event.personal)).to.deep.equal(['erased', 'erased', 'erased', 'none']);
    expect(timeline[0]!.erasedBy).to.equal(timeline[3]!.id);
    const text = JSON.stringify([timeline, await exportContact(here, p.contactId)]);
    for (const value of personalValues(p)) expect(text).not.to.contain(value);
  });

  it('no new personal data is sealed here for the forgotten contact: 410 naming the forgetting event', async () => {
    const head = await here.store.headPosition();
    const late = { ...registered(p), type: 'ContactDetailsChanged' };
    const refused = await publish(here, late).then(
      () => null,
      (error: unknown) => error,
    );
    expect(refused).to.be.instanceOf(Forgotten);
    const forgetting = (await here.store.readStream(`contact-${p.contactId}`)).at(-1)!;
    expect((refused as Forgotten).message).to.contain(forgetting.id);
    expect(await here.store.headPosition()).to.equal(head);
  });

  it('activity without personal data is still recorded for the forgotten contact', async () => {
    const balance = {
      type: 'BalanceChanged',
      contactId: p.contactId,
      organizationId: 'ORG-A',
      occurredAt: '2024-05-01T10:00:00Z',
      data: { balance: 0, currency: 'EUR' },
    };
    expect((await publish(here, balance)).appended).to.have.length(1);
  });

  // Found on 5b474a4: the look-up and targeting still returned the person for 0.4 – 1.7 s.
  it('the look-up, targeting and the recency list here leave the person out at once, read models behind', async () => {
    expect(await here.readModels.checkpoint('read-models')).to.be.below(await here.store.headPosition());
    const found = await api.get(`/v1/contacts?email=${encodeURIComponent(p.email)}`);
    expect(found.status).to.equal(200);
    expect(found.body.contactIds).to.deep.equal([]);
    const targeted = await api.post('/v1/targeting', {
      campaignType: 'operational',
      channel: 'email',
      contactIds: [p.contactId],
    });
    expect(targeted.body.eligible).to.deep.equal([]);
    expect(targeted.body.excluded.forgotten).to.equal(1);
    const listed = await api.get('/v1/recency?before=2030-01-01&limit=1000');
    expect(listed.body.items.map((item: { contactId: string }) => item.contactId)).not.to.include(p.contactId);
  });

  it('a later event of the forgotten contact, folded, never brings it back into any of them', async () => {
    const click = {
      type: 'MarketingLinkClicked',
      contactId: p.contactId,
      organizationId: 'ORG-A',
      occurredAt: '2026-06-01T10:00:00Z',
      data: { campaignId: 'CAMP-1', channel: 'email' },
    };
    expect((await publish(here, click)).appended).to.have.length(1);
    await here.runner.catchUp();
    expect((await api.get(`/v1/contacts?email=${encodeURIComponent(p.email)}`)).body.contactIds).to.deep.equal([]);
    const targeted = await api.post('/v1/targeting', { campaignType: 'operational', channel: 'email' });
    expect(targeted.body.eligible).not.to.include(p.contactId);
    const listed = await api.get('/v1/recency?before=2030-01-01&limit=1000');
    expect(listed.body.items.map((item: { contactId: string }) => item.contactId)).not.to.include(p.contactId);
    const simulated = await runInactiveBatch(here, { asOf: new Date('2026-11-01T00:00:00Z'), inactivityMonths: 1 });
    expect(JSON.stringify(simulated.report.contacts)).not.to.contain(p.contactId);
  });
});
