import { expect } from 'chai';
import { openTestLedger, type TestLedger } from '../support/ledger.js';
import { startApi, type Api } from '../support/http.js';
import { person, registered, type Person } from '../support/events.js';
import { configurePurpose } from '../../src/app/purposes.js';
import { forgetContact } from '../../src/app/forget-contact.js';

/** POST /v1/targeting over real read models: each exclusion, both campaign types, the renewal audience. */
describe('POST /v1/targeting', function () {
  this.timeout(120_000);
  let ledger: TestLedger;
  let api: Api;
  const event = (p: Person, type: string, data: Record<string, unknown>, occurredAt = '2024-03-01T10:00:00Z') => ({
    type,
    contactId: p.contactId,
    organizationId: 'ORG-A',
    occurredAt,
    data,
  });
  const given = (p: Person, purpose: string) =>
    event(p, 'ConsentGiven', { purpose, source: 'portal', wordingVersion: 'v1', preChecked: false });
  const withdrawn = (p: Person, purpose: string) => event(p, 'ConsentWithdrawn', { purpose, source: 'form' });

  const yesEmail = person();
  const yesSms = person();
  const refusedAll = person();
  const refusedEmail = person();
  const silent = person();
  const restricted = person();
  const forgotten = person();
  const otherOrg = person();
  const everyone = [yesEmail, yesSms, refusedAll, refusedEmail, silent, restricted, forgotten, otherOrg];

  before(async () => {
    ledger = await openTestLedger();
    api = await startApi(ledger);
    await configurePurpose(ledger, 'newsletter', { kind: 'consent', channel: 'email' });
    await configurePurpose(ledger, 'sms-offers', { kind: 'consent', channel: 'sms' });
    await configurePurpose(ledger, 'marketing', { kind: 'consent', channel: 'all' });
    const registrations = everyone.map((p) => registered(p, '2020-01-10T09:00:00Z'));
    registrations[7] = { ...registrations[7]!, organizationId: 'ORG-B' };
    const answer = await api.post('/v1/events', {
      events: [
        ...registrations,
        given(yesEmail, 'newsletter'),
        given(yesSms, 'sms-offers'),
        given(refusedAll, 'newsletter'),
        withdrawn(refusedAll, 'marketing'),
        given(refusedEmail, 'sms-offers'),
        withdrawn(refusedEmail, 'newsletter'),
        given(restricted, 'newsletter'),
        event(restricted, 'ProcessingRestricted', { reason: 'objection' }),
        given(forgotten, 'newsletter'),
        { ...given(otherOrg, 'newsletter'), organizationId: 'ORG-B' },
      ],
    });
    expect(answer.status, answer.text).to.equal(201);
    await forgetContact(ledger, forgotten.contactId, { reason: 'request', requestId: 'REQ-T' });
    await ledger.runner.catchUp();
  });
  after(async () => {
    await api.close();
    await ledger.dispose();
  });

  const ids = (...people: Person[]) => people.map((p) => p.contactId);

  it('a strict e-mail campaign reaches explicit "yes" on e-mail only and says why others are left out', async () => {
    const answer = await api.post('/v1/targeting', { campaignType: 'marketing', channel: 'email' });
    expect(answer.status, answer.text).to.equal(200);
    expect(answer.body.strictConsent).to.equal(true);
    expect(answer.body.eligible).to.have.members(ids(yesEmail, otherOrg));
    expect(answer.body.excluded).to.deep.equal({
      unknownContact: 0,
      otherOrganization: 0,
      forgotten: 1,
      restricted: 1,
      refusedInGeneral: 1,
      refusedOnChannel: 1,
      noExplicitYes: 2, // yesSms (a "yes" on another channel) and silent
    });
    expect(answer.body.withoutAnswer).to.equal(1);
  });

  it('without strict mode no answer is no refusal; an operational campaign skips the consent filter', async () => {
    const lenient = await api.post('/v1/targeting', {
      campaignType: 'marketing',
      channel: 'email',
      strictConsent: false,
    });
    expect(lenient.body.eligible).to.have.members(ids(yesEmail, otherOrg, yesSms, silent));
    const operational = await api.post('/v1/targeting', { campaignType: 'operational', channel: 'email' });
    expect(operational.body.eligible).to.have.members(
      ids(yesEmail, yesSms, refusedAll, refusedEmail, silent, otherOrg),
    );
    expect(operational.body.excluded).to.include({ forgotten: 1, restricted: 1 });
  });

  it('targets the ids given, in their order, an unknown one counted as such; and by organisation', async () => {
    const given = await api.post('/v1/targeting', {
      campaignType: 'marketing',
      channel: 'sms',
      contactIds: [yesSms.contactId, 'C-NOBODY', refusedEmail.contactId],
    });
    expect(given.body.eligible).to.deep.equal(ids(yesSms, refusedEmail));
    expect(given.body.excluded.unknownContact).to.equal(1);
    const ofB = await api.post('/v1/targeting', {
      campaignType: 'marketing',
      channel: 'email',
      organizationId: 'ORG-B',
    });
    expect(ofB.body.eligible).to.deep.equal(ids(otherOrg));
    expect(ofB.body.considered).to.equal(1);
  });

  it('ids given with an organisation: one of another organisation is counted as such, not as unknown', async () => {
    const answer = await api.post('/v1/targeting', {
      campaignType: 'marketing',
      channel: 'email',
      organizationId: 'ORG-B',
      contactIds: [yesEmail.contactId, otherOrg.contactId, 'C-NOBODY', silent.contactId, forgotten.contactId],
    });
    expect(answer.status, answer.text).to.equal(200);
    expect(answer.body.eligible).to.deep.equal(ids(otherOrg));
    expect(answer.body.excluded).to.include({ unknownContact: 1, otherOrganization: 3, forgotten: 0 });
    expect(answer.body.considered).to.equal(5);
    // The silent contact of another organisation is out of scope: not one to ask for an answer.
    expect(answer.body.withoutAnswer).to.equal(0);
  });

  it('recencyBefore selects the renewal audience; a click on the renewal link moves the recency', async () => {
    const before = await api.post('/v1/targeting', {
      campaignType: 'marketing',
      channel: 'email',
      recencyBefore: '2024-12-31',
    });
    expect(before.body.eligible).to.include(yesEmail.contactId);
    const click = event(
      yesEmail,
      'MarketingLinkClicked',
      { campaignId: 'RENEWAL-1', channel: 'email' },
      '2025-02-01T10:00:00Z',
    );
    expect((await api.post('/v1/events', click)).status).to.equal(201);
    await ledger.runner.catchUp();
    const after = await api.post('/v1/targeting', {
      campaignType: 'marketing',
      channel: 'email',
      recencyBefore: '2024-12-31',
    });
    expect(after.body.eligible).not.to.include(yesEmail.contactId);
    expect((await api.get(`/v1/contacts/${yesEmail.contactId}`)).body.recency.date).to.equal(
      '2025-02-01T10:00:00.000Z',
    );
  });

  const bad: Array<[string, unknown, RegExp]> = [
    ['an unknown campaign type', { campaignType: 'spam', channel: 'email' }, /campaignType/],
    ['the "all" channel (a campaign goes out on one)', { campaignType: 'marketing', channel: 'all' }, /channel/],
    [
      'ids and a recency both',
      { campaignType: 'marketing', channel: 'email', contactIds: ['C-1'], recencyBefore: '2024-01-01' },
      /recencyBefore/,
    ],
    [
      'an id that is an e-mail address',
      { campaignType: 'marketing', channel: 'email', contactIds: ['a@b.org'] },
      /contactIds/,
    ],
    ['a date that is no date', { campaignType: 'marketing', channel: 'email', recencyBefore: 'soon' }, /recencyBefore/],
    ['an unknown field', { campaignType: 'marketing', channel: 'email', limit: 5 }, /limit|known field/],
  ];
  for (const [what, body, pointer] of bad) {
    it(`refuses ${what} with a 400 naming the field, never echoing a value`, async () => {
      const answer = await api.post('/v1/targeting', body);
      expect(answer.status, answer.text).to.equal(400);
      expect(answer.text).to.match(pointer);
      expect(answer.text).not.to.include('a@b.org');
    });
  }
});
