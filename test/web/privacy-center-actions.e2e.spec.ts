import { expect } from 'chai';
import { configurePurpose } from '../../src/app/purposes.js';
import { forgetContact } from '../../src/app/forget-contact.js';
import { configureTestPurposes, ticketSold, type Person } from '../support/events.js';
import { startApi, type Api } from '../support/http.js';
import { openTestLedger, type TestLedger } from '../support/ledger.js';
import { browserOf, csrfOf } from '../support/privacy-pages.js';

const DAY = 86_400_000;

/** What the person does on their page (issue 26, item 3), each action a form POST, then the page again. */
describe('privacy center: correct, download, ask for erasure, renew (HTML, no JavaScript)', function () {
  this.timeout(120_000);
  let ledger: TestLedger;
  let api: Api;
  let browser: ReturnType<typeof browserOf>;

  before(async () => {
    ledger = await openTestLedger();
    api = await startApi(ledger);
    browser = browserOf(api, ledger);
    await configureTestPurposes(ledger);
    await configurePurpose(ledger, 'interest', { kind: 'legalBasis', channel: 'all' });
    await configurePurpose(ledger, 'season', { kind: 'consent', channel: 'email', expiryDays: 365 });
  });
  after(async () => {
    await api.close();
    await ledger.dispose();
  });

  const streamOf = (p: Person) => ledger.store.readStream(`contact-${p.contactId}`);
  const viewOf = async (p: Person) => (await api.get(`/v1/contacts/${p.contactId}`)).body;

  it('shows their orders without other people’s details, and when they would be forgotten', async () => {
    const { p, path } = await browser.newPerson((p) => [ticketSold(p, 'O-77', '2031-06-15T20:00:00Z')]);
    await ledger.runner.catchUp();
    const page = await browser.get(path, 'en-GB');
    expect(page.html).to.include('Order O-77').and.include('Bought, valid until 15 June 2031');
    // The beneficiary and the answers of the order are another person's, or the order's: not shown.
    expect(page.html).not.to.include(`Guest${p.firstName}`).and.not.include('Allergic');
    // Recency is the ticket's end of validity: 36 months later (the batch's default period) unless something happens.
    const day = '15 June 2034';
    expect(/<h2>How long[^]*?<\/p>/.exec(page.html)?.[0]).to.include(
      `your data will be anonymised after ${day}, unless`,
    );
  });

  it('says a prospect’s data would be deleted, and no date when the batch would not forget them', async () => {
    const retention = (html: string) => /<h2>How long[^]*?<\/p>/.exec(html)![0];
    const fact = (p: Person, type: string, data: Record<string, unknown>) => ({
      type,
      contactId: p.contactId,
      organizationId: 'ORG-A',
      occurredAt: '2024-03-01T10:00:00Z',
      data,
    });
    // No ticket: the batch erases a prospect, 36 months after their registration (their recency).
    const prospect = await browser.newPerson();
    await ledger.runner.catchUp();
    expect(retention((await browser.get(`${prospect.path}?lang=en`)).html)).to.include(
      'your data will be deleted after 10 January 2027, unless',
    );
    // A legal hold, or a balance owed either way, makes the batch skip them; a structure is never its concern.
    const kept = [
      await browser.newPerson((p) => [fact(p, 'LegalHoldPlaced', { reason: 'litigation' })]),
      await browser.newPerson((p) => [fact(p, 'BalanceChanged', { balance: -12.5, currency: 'EUR' })]),
      await browser.newPerson((p) => [fact(p, 'ContactDetailsChanged', { role: 'structure' })]),
    ];
    await ledger.runner.catchUp();
    for (const { path } of kept) {
      const said = retention((await browser.get(`${path}?lang=en`)).html);
      expect(said).to.include('We keep your data while you are in touch with us.').and.not.include('after');
    }
  });

  it('corrects their details: one ContactDetailsChanged from the portal, IP sealed, only what changed', async () => {
    const { p, path } = await browser.newPerson();
    const form = await browser.get(`${path}/details?lang=en`);
    expect(form.status).to.equal(200);
    expect(form.html).to.include(`value="${p.email}"`).and.include('autocomplete="email"');
    const before = (await streamOf(p)).length;
    const saved = await browser.post(`${path}/details`, {
      csrf: csrfOf(form.html),
      lang: 'en',
      firstName: p.firstName,
      lastName: p.lastName,
      email: `  new.${p.email}  `,
      phone: '',
      street: p.street,
      line2: '',
      postcode: p.postcode,
      town: 'Villeurbanne',
      country: 'fr',
    });
    expect(saved.status).to.equal(303);
    expect(saved.headers.get('location')).to.equal(`${path}?lang=en&done=details`);
    const stream = await streamOf(p);
    expect(stream).to.have.length(before + 1);
    const changed = stream.at(-1)!;
    expect(changed.type).to.equal('ContactDetailsChanged');
    // Clear: only its source; the new e-mail, the address and the IP are sealed.
    expect(changed.data).to.deep.equal({ source: 'portal' });
    expect(changed.sealed).to.not.equal(null);
    const view = await viewOf(p);
    expect(view.details.email).to.equal(`new.${p.email}`);
    expect(view.details.phone).to.equal(p.phone); // left empty: kept
    expect(view.details.address).to.deep.equal({
      street: p.street,
      postcode: p.postcode,
      town: 'Villeurbanne',
      country: 'FR',
    });
    const timeline = (await api.get(`/v1/contacts/${p.contactId}/events`)).body.events;
    expect(timeline.at(-1).data).to.deep.include({ email: `new.${p.email}`, ipAddress: '127.0.0.1', source: 'portal' });
    const page = await browser.get(saved.headers.get('location')!);
    expect(page.html).to.include('Your details were corrected.').and.include('Villeurbanne');

    // The same again changes nothing, and appends nothing.
    const again = await browser.post(`${path}/details`, { csrf: csrfOf(form.html), lang: 'en', town: 'Villeurbanne' });
    expect(again.headers.get('location')).to.equal(`${path}?lang=en&done=unchanged`);
    expect(await streamOf(p)).to.have.length(before + 1);
  });

  it('says beside each field what the ledger refused (error summary, inline error), and appends nothing', async () => {
    const { p, path } = await browser.newPerson();
    const csrf = csrfOf((await browser.get(`${path}/details`)).html);
    const head = await ledger.store.headPosition();
    const cases: Array<[Record<string, string>, string, string]> = [
      [{ email: 'not-an-email' }, 'email', 'Saisissez une adresse e-mail au bon format'],
      [{ phone: 'call me maybe' }, 'phone', 'Saisissez un numéro de téléphone'],
      // A town that is an e-mail address would be kept in clear by an anonymization: refused.
      [{ town: `${p.email}` }, 'town', 'Saisissez une vraie ville'],
      [{ country: 'France' }, 'country', 'Saisissez le pays en deux lettres majuscules'],
      [{ firstName: 'x'.repeat(101) }, 'firstName', 'Saisissez votre prénom en 100 caractères au plus'],
    ];
    for (const [fields, field, text] of cases) {
      const refused = await browser.post(`${path}/details`, { csrf, lang: 'fr', ...fields });
      expect(refused.status, field).to.equal(400);
      expect(refused.html).to.match(/<title>Il y a un problème – /);
      expect(refused.html).to.include(`<a href="#${field}">${text}`);
      expect(refused.html).to.match(new RegExp(`id="${field}-error"[^>]*>[^]*${text}`));
      expect(refused.html).to.match(
        new RegExp(`id="${field}"[^>]*aria-invalid="true"|aria-invalid="true"[^>]*id="${field}"`),
      );
      // What they typed is shown back, so that they can fix it.
      expect(refused.html).to.include(`value="${Object.values(fields)[0]!.replaceAll('@', '@')}"`);
    }
    expect(await ledger.store.headPosition()).to.equal(head);
    expect((await browser.post(`${path}/details`, { lang: 'fr', email: 'a@b.org' })).status).to.equal(403);
    expect(await ledger.store.headPosition()).to.equal(head);
  });

  it('refuses a form too long or with too many fields as such (413, a page of its own), not as a failure', async () => {
    const { path } = await browser.newPerson();
    const csrf = csrfOf((await browser.get(`${path}/details`)).html);
    const head = await ledger.store.headPosition();
    const many = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`field${i}`, 'x']));
    for (const fields of [{ lastName: 'x'.repeat(5000) }, many]) {
      const refused = await browser.post(`${path}/details`, { csrf, lang: 'en', ...fields });
      expect(refused.status).to.equal(413);
      expect(refused.headers.get('cache-control')).to.equal('no-store');
      expect(refused.html).to.include('Ce que vous avez envoyé n’a pas pu être lu').and.not.include('xxxx');
    }
    expect(await ledger.store.headPosition()).to.equal(head);
  });

  it('asks for erasure after a confirmation step, then follows it: pending, refused in words, done (410)', async () => {
    const { p, path } = await browser.newPerson();
    const page = await browser.get(path);
    expect(page.html).to.include(`href="${path}/erasure?lang=fr"`);
    const confirm = await browser.get(`${path}/erasure?lang=fr`);
    expect(confirm.html).to.include('Voulez-vous vraiment que nous vous oubliions ?').and.include('Oui, oubliez-moi');
    expect(await streamOf(p)).to.have.length(1); // the confirmation page asks, it records nothing
    expect((await browser.post(`${path}/erasure`, { lang: 'fr' })).status).to.equal(403);

    const asked = await browser.post(`${path}/erasure`, { csrf: csrfOf(confirm.html), lang: 'fr' });
    expect(asked.status).to.equal(303);
    expect(asked.headers.get('location')).to.equal(`${path}?lang=fr&done=erasure`);
    const requested = (await streamOf(p)).at(-1)!;
    expect(requested.type).to.equal('ErasureRequested');
    expect(requested.data).to.include({ channel: 'portal' }).and.not.have.property('ipAddress');
    const requestId = String(requested.data['requestId']);
    const { body: request } = await api.get(`/v1/erasure-requests/${requestId}`);
    expect(request).to.include({ status: 'pending', channel: 'portal', contactId: p.contactId });
    const due = new Intl.DateTimeFormat('fr-FR', { dateStyle: 'long', timeZone: 'UTC' }).format(
      new Date(request.dueAt),
    );
    const followed = await browser.get(asked.headers.get('location')!);
    expect(followed.html).to.include(`Nous vous répondrons d’ici le ${due}`);
    expect(followed.html).not.to.include(`${path}/erasure?`); // no second request offered while one is pending

    // A second click (or the confirmation page again) makes no second request.
    expect((await browser.get(`${path}/erasure?lang=fr`)).status).to.equal(303);
    expect((await browser.post(`${path}/erasure`, { csrf: csrfOf(confirm.html), lang: 'fr' })).status).to.equal(303);
    expect((await streamOf(p)).filter((event) => event.type === 'ErasureRequested')).to.have.length(1);

    // Refused by the institution: the reason in words, and the person may ask again.
    expect((await api.post(`/v1/erasure-requests/${requestId}/refuse`, { reason: 'valid-ticket' })).status).to.equal(
      200,
    );
    const refused = await browser.get(`${path}?lang=en`);
    expect(refused.html).to.include('We could not do it:').and.include('you still hold a valid ticket');
    expect(refused.html).to.include(`${path}/erasure?lang=en`);
    const again = await browser.post(`${path}/erasure`, { csrf: csrfOf(confirm.html), lang: 'en' });
    const second = String((await streamOf(p)).at(-1)!.data['requestId']);
    expect(second).to.not.equal(requestId);
    expect((await api.post(`/v1/erasure-requests/${second}/refuse`, { reason: 'other-grounds' })).status).to.equal(200);
    expect((await browser.get(`${path}?lang=en`)).html).to.include('reason “other-grounds”. Contact us');
    expect(again.status).to.equal(303);

    // Executed: the person is forgotten, their link answers a neutral 410 everywhere.
    const third = await browser.post(`${path}/erasure`, { csrf: csrfOf(confirm.html), lang: 'en' });
    expect(third.status).to.equal(303);
    const last = String((await streamOf(p)).at(-1)!.data['requestId']);
    expect((await api.post(`/v1/erasure-requests/${last}/execute`, {})).status).to.equal(200);
    for (const sub of ['', '/details', '/erasure', '/print', '/export.json']) {
      const gone = await browser.get(`${path}${sub}`, 'en');
      expect(gone.status, sub).to.equal(410);
      expect(gone.html).to.include('This link no longer works').and.not.include(p.lastName);
    }
  });

  it('answers the neutral 410 when the person is forgotten while their correction or request is written', async () => {
    for (const [form, fields] of [
      ['/details', { town: 'Villeurbanne' }],
      ['/erasure', {}],
    ] as const) {
      const { p, path } = await browser.newPerson();
      const csrf = csrfOf((await browser.get(`${path}${form}`)).html);
      // The forgetting lands between the last read of the person's stream and the append.
      const stream = `contact-${p.contactId}`;
      const readStream = ledger.store.readStream.bind(ledger.store);
      let reads = 0;
      ledger.store.readStream = async (name, ...rest) => {
        const read = await readStream(name, ...rest);
        if (name === stream && ++reads === 2) {
          ledger.store.readStream = readStream;
          await forgetContact(ledger, p.contactId, { reason: 'request', requestId: 'REQ-RACE' });
        }
        return read;
      };
      try {
        const answered = await browser.post(`${path}${form}`, { csrf, lang: 'en', ...fields });
        expect(answered.status, form).to.equal(410);
        expect(answered.html).to.include('This link no longer works').and.not.include(p.lastName);
      } finally {
        ledger.store.readStream = readStream;
      }
    }
  });

  it('records one erasure request for clicks at once, and answers each of them the page (no error)', async () => {
    const { p, path } = await browser.newPerson();
    const csrf = csrfOf((await browser.get(`${path}/erasure`)).html);
    const clicks = await Promise.all(
      Array.from({ length: 4 }, () => browser.post(`${path}/erasure`, { csrf, lang: 'en' })),
    );
    expect(clicks.map((click) => click.status)).to.deep.equal([303, 303, 303, 303]);
    expect((await streamOf(p)).filter((event) => event.type === 'ErasureRequested')).to.have.length(1);
  });

  it('downloads everything as the API’s JSON export, and as a printable page', async () => {
    const { p, path } = await browser.newPerson((p) => [ticketSold(p, 'O-88')]);
    const json = await browser.get(`${path}/export.json`);
    expect(json.status).to.equal(200);
    expect(json.headers.get('content-disposition')).to.match(
      /^attachment; filename="personal-data-\d{4}-\d{2}-\d{2}\.json"$/,
    );
    expect(json.headers.get('cache-control')).to.equal('no-store');
    const exported = JSON.parse(json.html);
    const { body: fromApi } = await api.get(`/v1/contacts/${p.contactId}/export`);
    expect({ ...exported, exportedAt: null }).to.deep.equal({ ...fromApi, exportedAt: null });
    expect(JSON.stringify(exported)).to.include(p.email).and.not.include(`guest.${p.email}`);

    const print = await browser.get(`${path}/print?lang=en`);
    expect(print.status).to.equal(200);
    expect(print.html).to.include('<h1>All your data</h1>').and.include('You were registered');
    expect(print.html).to.include('A ticket was bought').and.include('orderId: O-88');
    expect(print.html).to.include('beneficiary.email: withheld: it concerns another person');
    expect(print.html)
      .not.to.include(`guest.${p.email}`)
      .and.not.match(/<script/);
  });

  it('renews a consent from a campaign’s link (?renew=): one button, a ConsentGiven that prolongs it', async () => {
    const { p, path } = await browser.newPerson((p) => [
      {
        type: 'ConsentGiven',
        contactId: p.contactId,
        organizationId: 'ORG-A',
        occurredAt: new Date(Date.now() - 300 * DAY).toISOString(),
        data: { purpose: 'season', source: 'form', wordingVersion: 'v1', preChecked: false },
      },
    ]);
    const expiresBefore = (await viewOf(p)).consents.season.expiresAt;
    const page = await browser.get(`${path}?renew=season&lang=en`);
    expect(page.html).to.include('Keep receiving “season”?');
    const panel = /<section class="panel"[^]*?<\/section>/.exec(page.html)![0];
    expect(panel.match(/<button/g)).to.have.length(1);
    expect(panel).to.include('name="answer" value="yes"').and.include('Yes, keep me informed');
    const renewed = await browser.post(`${path}/consents`, {
      csrf: csrfOf(panel),
      purpose: 'season',
      answer: 'yes',
      lang: 'en',
    });
    expect(renewed.status).to.equal(303);
    const given = (await streamOf(p)).at(-1)!;
    expect(given).to.deep.include({ type: 'ConsentGiven' });
    expect(given.data).to.include({ purpose: 'season', source: 'portal' });
    // An activity of the consent: it counts from the renewal, its expiry no earlier than before.
    const season = (await viewOf(p)).consents.season;
    expect(season.lastActivityAt).to.equal(given.occurredAt);
    expect(Date.parse(season.expiresAt)).to.be.at.least(Date.parse(expiresBefore));
    // A legal basis or an unknown purpose is never offered for renewal.
    for (const code of ['interest', 'nope']) {
      expect((await browser.get(`${path}?renew=${code}`)).html).not.to.include('class="panel"');
    }
  });
});
