import { expect } from 'chai';
import { openTestLedger, type TestLedger } from '../support/ledger.js';
import { startApi, type Api } from '../support/http.js';
import { person, registered } from '../support/events.js';
import { issueConsentLink } from '../../src/app/consent-links.js';
import { DEMO_PURPOSES } from '../../src/demo/synthetic.js';

/** Purposes' labels (issue 26): the name and description the person reads, configured as any setting. */
describe('purpose labels: the wording of a purpose in French and English', function () {
  this.timeout(120_000);
  let ledger: TestLedger;
  let api: Api;

  const labels = {
    fr: { name: 'Lettre d’information', description: 'La programmation de la saison, chaque mois.' },
    en: { name: 'Newsletter', description: 'The season’s programme, every month.' },
  };
  const newsletter = { kind: 'consent', channel: 'email', labels };

  before(async () => {
    ledger = await openTestLedger();
    api = await startApi(ledger);
  });
  after(async () => {
    await api.close();
    await ledger.dispose();
  });

  /** A PUT that must succeed, and how many events it appended. */
  const configure = async (code: string, body: unknown) => {
    const head = await ledger.store.headPosition();
    const answer = await api.put(`/v1/purposes/${code}`, body);
    expect(answer.status, answer.text).to.equal(200);
    return {
      purpose: answer.body.purpose,
      changed: answer.body.changed,
      appended: (await ledger.store.headPosition()) - head,
    };
  };

  it('shows the labels in GET /v1/purposes; a purpose without any has null', async () => {
    expect((await configure('newsletter', newsletter)).appended).to.equal(1);
    await configure('sms', { kind: 'consent', channel: 'sms' });
    const { items } = (await api.get('/v1/purposes')).body;
    const byCode = Object.fromEntries(items.map((p: { code: string }) => [p.code, p]));
    expect(byCode.newsletter.labels).to.deep.equal(labels);
    expect(byCode.sms.labels).to.equal(null);
  });

  it('the same labels again, in another key order, append nothing; a change of wording alone appends one', async () => {
    const reordered = { en: { description: labels.en.description, name: labels.en.name }, fr: labels.fr };
    const again = await configure('newsletter', { channel: 'email', labels: reordered, kind: 'consent' });
    expect(again).to.include({ changed: false, appended: 0 });
    const reworded = { ...labels, en: { name: 'Our newsletter', description: labels.en.description } };
    const changed = await configure('newsletter', { ...newsletter, labels: reworded });
    expect(changed).to.include({ changed: true, appended: 1 });
    expect(changed.purpose.labels.en.name).to.equal('Our newsletter');
    // A PUT is the whole configuration: without labels, the purpose has none from then on.
    const cleared = await configure('newsletter', { kind: 'consent', channel: 'email' });
    expect(cleared).to.include({ changed: true, appended: 1 });
    expect(cleared.purpose.labels).to.equal(null);
    expect((await configure('newsletter', newsletter)).appended).to.equal(1);
  });

  it('one language is enough, and a description is optional', async () => {
    const { purpose } = await configure('partners', {
      kind: 'consent',
      channel: 'all',
      labels: { fr: { name: 'Partenaires' } },
    });
    expect(purpose.labels).to.deep.equal({ fr: { name: 'Partenaires' } });
  });

  const long = (n: number) => 'a'.repeat(n);
  const bad: Array<[string, unknown, string, RegExp]> = [
    ['no language', {}, '/labels', /fewer than 1|minProperties/],
    ['a language the page does not speak', { de: { name: 'Newsletter' } }, '/labels/de', /not a known field/],
    ['a label without a name', { fr: { description: 'La saison' } }, '/labels/fr/name', /required/],
    ['an empty name', { fr: { name: '' } }, '/labels/fr/name', /fewer than 1/],
    ['a name of blanks', { en: { name: '   ' } }, '/labels/en/name', /not blank/],
    ['a name of 81 characters', { fr: { name: long(81) } }, '/labels/fr/name', /more than 80/],
    [
      'a description of 501 characters',
      { en: { name: 'N', description: long(501) } },
      '/labels/en/description',
      /more than 500/,
    ],
    ['an empty description', { en: { name: 'N', description: '' } }, '/labels/en/description', /fewer than 1/],
    ['a field a label does not have', { fr: { name: 'N', title: 'T' } }, '/labels/fr/title', /not a known field/],
    ['a name that is no string', { fr: { name: 42 } }, '/labels/fr/name', /string/],
    [
      'an e-mail address in a description',
      { fr: { name: 'Lettre', description: 'Écrivez à camille.martin@example.org' } },
      '/labels/fr/description',
      /e-mail address or a phone number/,
    ],
    [
      'a phone number in a name',
      { en: { name: 'Call +33 6 12 34 56 78' } },
      '/labels/en/name',
      /e-mail address or a phone number/,
    ],
    [
      'a telephone link in a description',
      { en: { name: 'Offers', description: 'Text tel:0612345678 to stop' } },
      '/labels/en/description',
      /e-mail address or a phone number/,
    ],
  ];
  for (const [what, given, pointer, message] of bad) {
    it(`refuses ${what} (400 naming ${pointer}), and appends nothing`, async () => {
      const head = await ledger.store.headPosition();
      const answer = await api.put('/v1/purposes/newsletter', { ...newsletter, labels: given });
      expect(answer.status, answer.text).to.equal(400);
      expect(answer.type).to.match(/^application\/problem\+json/);
      const error = answer.body.errors.find((e: { pointer: string }) => e.pointer === pointer);
      expect(error, answer.text).to.not.equal(undefined);
      expect(error.message).to.match(message);
      // The refusal never repeats the value it refused.
      if (typeof given === 'object' && JSON.stringify(given).includes('@')) expect(answer.text).not.to.include('@');
      expect(await ledger.store.headPosition()).to.equal(head);
    });
  }

  it('the person’s page has them: in JSON, and by name and description in the page’s language', async () => {
    await configure('newsletter', newsletter);
    await configure('fr-only', { kind: 'consent', channel: 'post', labels: { fr: { name: 'Courrier postal' } } });
    const p = person();
    expect((await api.post('/v1/events', registered(p))).status).to.equal(201);
    const { token } = await issueConsentLink(ledger, p.contactId);
    const page = await api.get(`/v1/consent-links/${token}`, { authorization: '' });
    const shown = Object.fromEntries(page.body.purposes.map((x: { code: string }) => [x.code, x]));
    expect(shown.newsletter.labels).to.deep.equal(labels);
    expect(shown.sms.labels).to.equal(null);

    const html = async (lang: string) => (await fetch(`${api.url}/privacy/${token}?lang=${lang}`)).text();
    const [fr, en] = [await html('fr'), await html('en')];
    expect(fr).to.include('>Lettre d’information</h3><p class="hint">La programmation de la saison, chaque mois.</p>');
    expect(en).to.include('>Newsletter</h3><p class="hint">The season’s programme, every month.</p>');
    // No English label: the French one; no label at all: the code.
    expect(en).to.include('>Courrier postal</h3>');
    expect(en).to.include('>sms</h3>');
  });

  it('the demo institution’s purposes are labelled in both languages, and pass as a PUT would', async () => {
    for (const [code, settings] of Object.entries(DEMO_PURPOSES)) {
      expect(settings.labels?.fr?.description, code).to.be.a('string');
      expect(settings.labels?.en?.description, code).to.be.a('string');
      const answer = await api.put(`/v1/purposes/demo-${code}`, settings);
      expect(answer.status, answer.text).to.equal(200);
    }
  });
});
