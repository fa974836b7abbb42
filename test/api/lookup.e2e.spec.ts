import { forgetContact } from '../../src/app/forget-contact.js';
import { publish } from '../../src/app/publish.js';
import { expect } from 'chai';
import { openTestLedger, type TestLedger } from '../support/ledger.js';
import { startApi, type Api } from '../support/http.js';
import { dumpReadModels } from '../support/stored.js';
import { person, registered } from '../support/events.js';

describe('GET /v1/contacts?email= (keyed blind index)', () => {
  let ledger: TestLedger;
  let api: Api;
  const [alice, bob] = [person(), person()];
  before(async () => {
    ledger = await openTestLedger();
    api = await startApi(ledger);
    await publish(ledger, { events: [registered(alice), registered(bob)] });
    await ledger.runner.catchUp();
  });
  after(async () => {
    await api.close();
    await ledger.dispose();
  });
  const lookUp = (email: string) => api.get(`/v1/contacts?email=${encodeURIComponent(email)}`);

  it('finds a contact by e-mail, whatever the case and surrounding spaces', async () => {
    expect((await lookUp(alice.email)).body).to.deep.equal({ contactIds: [alice.contactId] });
    expect((await lookUp(` ${alice.email.toUpperCase()} `)).body).to.deep.equal({ contactIds: [alice.contactId] });
    expect((await lookUp('nobody@example.org')).body).to.deep.equal({ contactIds: [] });
  });

  it('follows a rectification: the new address finds the contact, the old one no longer does', async () => {
    await publish(ledger, {
      ...registered(bob),
      type: 'ContactDetailsChanged',
      data: { email: `new.${bob.email}` },
    });
    await ledger.runner.catchUp();
    expect((await lookUp(`new.${bob.email}`)).body.contactIds).to.deep.equal([bob.contactId]);
    expect((await lookUp(bob.email)).body.contactIds).to.deep.equal([]);
  });

  it('holds hashes only, and forgets the entry with the contact, also after a rebuild', async () => {
    const index = JSON.stringify((await dumpReadModels(ledger)).emailIndex);
    expect(index).to.contain(alice.contactId);
    expect(index).not.to.contain(alice.email);
    await forgetContact(ledger, alice.contactId, { reason: 'request', requestId: 'R-1' });
    await ledger.runner.catchUp();
    expect((await lookUp(alice.email)).body.contactIds).to.deep.equal([]);
    await ledger.runner.rebuild();
    expect((await lookUp(alice.email)).body.contactIds).to.deep.equal([]);
    expect((await lookUp(`new.${bob.email}`)).body.contactIds).to.deep.equal([bob.contactId]);
  });

  it('refuses a malformed address with a 400 that does not repeat it', async () => {
    const response = await lookUp('not-an-address-secret');
    expect(response.status).to.equal(400);
    expect(response.text).not.to.contain('not-an-address-secret');
    expect((await api.get('/v1/contacts')).status).to.equal(400);
  });
});
