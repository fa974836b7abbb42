import { expect } from 'chai';
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { openTestLedger, type TestLedger } from '../support/ledger.js';
import { startApi, type Api } from '../support/http.js';
import { configureTestPurposes, ticketSold } from '../support/events.js';
import { browserOf } from '../support/privacy-pages.js';
import { configurePurpose } from '../../src/app/purposes.js';
import { MESSAGES, type Language } from '../../src/web/messages/index.js';

/** Debian's chromium (.ci/run installs it when missing); CHROMIUM_PATH for another. */
const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
/** Screenshots of each page, git-ignored; UPDATE_DOCS_SCREENSHOTS=1 copies those the README shows to docs/. */
const ARTIFACTS = 'artifacts';
const DOCS_SCREENSHOTS = ['privacy-center.fr', 'privacy-details-error.en', 'privacy-erasure.fr', 'privacy-print.en'];
const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: Array<{ target: unknown }>;
}

/** axe-core's serious and critical violations on the page as it is now. */
async function seriousViolations(page: Page): Promise<string[]> {
  await page.addScriptTag({ path: AXE });
  const violations = await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run(): Promise<{ violations: AxeViolation[] }> } }).axe;
    return (await axe.run()).violations;
  });
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map(({ id, help, nodes }) => `${id}: ${help} (${nodes.length})`);
}

const LOCALES: Record<Language, string> = { fr: 'fr-FR', en: 'en-GB' };

/**
 * A button's accessible name: its text, then the purpose it acts on (said to screen readers only;
 * chromium puts a space before the hidden part, which is positioned apart).
 */
const forPurpose = (text: string, purpose: string) => new RegExp(`^${text}\\s*:\\s*${purpose}$`);

/**
 * The privacy center in a real browser, as a person uses it (issue 26, item 7): every action, in
 * both languages, with JavaScript off and on (the pages have no script: they must not need one),
 * mouse and keyboard; axe-core on every page; a screenshot of each in artifacts/.
 */
describe('privacy center in a real browser (chromium)', function () {
  this.timeout(180_000);
  let ledger: TestLedger;
  let api: Api;
  let browser: Browser;
  /** The pages axe looked at, by name: every page of each journey, in each language. */
  const audited = new Set<string>();

  before(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`no browser at ${CHROMIUM}: apt-get install chromium (see .ci/run)`);
    ledger = await openTestLedger();
    api = await startApi(ledger, undefined, undefined, {
      institution: { name: 'Théâtre des Tilleuls', privacyPolicyUrl: 'https://theatre.example/privacy' },
    });
    await configureTestPurposes(ledger);
    await configurePurpose(ledger, 'interest', { kind: 'legalBasis', channel: 'all' });
    // As root (a CI container), chromium runs only without its sandbox.
    const args = process.getuid?.() === 0 ? ['--no-sandbox'] : [];
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args });
    mkdirSync(ARTIFACTS, { recursive: true });
  });
  after(async () => {
    await browser?.close();
    await api?.close();
    await ledger?.dispose();
  });

  /**
   * A screenshot of the page as it is; with JavaScript on, axe-core's verdict on it too, in that
   * very state (a form's errors shown): its serious and critical violations, none expected.
   */
  const shoot = async (page: Page, name: string, javaScriptEnabled: boolean): Promise<string[]> => {
    await page.screenshot({ path: `${ARTIFACTS}/${name}.png`, fullPage: true });
    if (!javaScriptEnabled) return [];
    audited.add(name);
    return (await seriousViolations(page)).map((violation) => `${name} ${violation}`);
  };

  for (const javaScriptEnabled of [false, true]) {
    for (const language of ['fr', 'en'] as const) {
      const m = MESSAGES[language];
      it(`every action, ${language}, JavaScript ${javaScriptEnabled ? 'on' : 'off'}`, async () => {
        const { p, path } = await browserOf(api, ledger).newPerson((p) => [ticketSold(p, 'O-5')]);
        // With JavaScript on, axe runs in the page: the page's CSP (no script at all) is bypassed for it.
        const context: BrowserContext = await browser.newContext({
          javaScriptEnabled,
          bypassCSP: javaScriptEnabled,
          locale: LOCALES[language],
        });
        const violations: string[] = [];
        const page = await context.newPage();
        const suffix = `${language}${javaScriptEnabled ? '.js' : ''}`;
        await page.goto(`${api.url}${path}`);
        expect(await page.locator('h1').textContent()).to.equal(m.title);
        expect(await page.locator('.header-title').textContent()).to.equal('Théâtre des Tilleuls');
        expect(await page.getByRole('link', { name: m.privacyPolicy }).getAttribute('href')).to.equal(
          'https://theatre.example/privacy',
        );

        // Give a consent: one click, the banner says so.
        await page.getByRole('button', { name: forPurpose(m.give, 'newsletter') }).click();
        await page.waitForURL(/done=given/);
        expect(await page.getByRole('status').textContent()).to.include(m.given('newsletter'));
        violations.push(...(await shoot(page, `privacy-center.${suffix}`, javaScriptEnabled)));

        // Correct a detail: a mistake first, said beside the field, then the right value.
        await page.getByRole('link', { name: m.details.correct }).click();
        await page.getByLabel(m.details.fields.email).fill('not-an-email');
        await page.getByRole('button', { name: m.details.save }).click();
        expect(await page.getByRole('alert').textContent()).to.include(m.details.invalid.email);
        violations.push(...(await shoot(page, `privacy-details-error.${suffix}`, javaScriptEnabled)));
        // The error summary's link takes the person to the field.
        await page.getByRole('link', { name: m.details.invalid.email }).click();
        await page.getByLabel(m.details.fields.email).fill(`corrected.${p.email}`);
        await page.getByRole('button', { name: m.details.save }).click();
        await page.waitForURL(/done=details/);
        expect(await page.getByRole('status').textContent()).to.include(m.details.saved);
        expect(await page.locator('.summary').textContent()).to.include(`corrected.${p.email}`);

        // Download everything as JSON: the file is the export, with the correction.
        const [download] = await Promise.all([
          page.waitForEvent('download'),
          page.getByRole('link', { name: m.download.json }).click(),
        ]);
        const exported = JSON.parse(readFileSync((await download.path())!, 'utf8'));
        expect(exported.contact.details.email).to.equal(`corrected.${p.email}`);
        // The printable page, and back.
        await page.getByRole('link', { name: m.download.print }).click();
        expect(await page.locator('h1').textContent()).to.equal(m.print.title);
        expect(await page.locator('table').last().textContent()).to.include(m.eventNames.TicketSold);
        violations.push(...(await shoot(page, `privacy-print.${suffix}`, javaScriptEnabled)));
        await page.getByRole('link', { name: m.print.button }).click();

        // The campaign's renewal link: one question, one button.
        await page.goto(`${api.url}${path}?renew=sms`);
        await page.getByRole('button', { name: m.renew.button }).click();
        await page.waitForURL(/done=given&purpose=sms/);
        expect((await api.get(`/v1/contacts/${p.contactId}`)).body.consents.sms.status).to.equal('yes');

        // Ask to be forgotten: a confirmation step, then the request followed on the page.
        await page.getByRole('link', { name: m.erasure.ask }).click();
        expect(await page.locator('h1').textContent()).to.equal(m.erasure.confirmTitle);
        violations.push(...(await shoot(page, `privacy-erasure.${suffix}`, javaScriptEnabled)));
        await page.getByRole('button', { name: m.erasure.confirm }).click();
        await page.waitForURL(/done=erasure/);
        expect(await page.getByRole('status').textContent()).to.match(/\d{4}/);
        expect(await page.getByRole('link', { name: m.erasure.ask }).count()).to.equal(0);
        const { body: requests } = await api.get('/v1/erasure-requests?status=pending');
        const request = requests.items.find((r: { contactId: string }) => r.contactId === p.contactId);
        expect(request).to.include({ channel: 'portal' });

        // Executed: the same link now shows a neutral page.
        expect((await api.post(`/v1/erasure-requests/${request.requestId}/execute`, {})).status).to.equal(200);
        const gone = await page.goto(`${api.url}${path}`);
        expect(gone?.status()).to.equal(410);
        expect(await page.locator('main').textContent()).not.to.include(p.lastName);
        violations.push(...(await shoot(page, `privacy-gone.${suffix}`, javaScriptEnabled)));
        await context.close();
        expect(violations).to.deep.equal([]);
      });
    }
  }

  it('the keyboard alone reaches every control in the order of the page', async () => {
    const { path } = await browserOf(api, ledger).newPerson();
    const context = await browser.newContext({ javaScriptEnabled: false, locale: 'fr-FR' });
    const page = await context.newPage();
    await page.goto(`${api.url}${path}`);
    const m = MESSAGES.fr;
    const focused: string[] = [];
    for (let i = 0; i < 6; i++) {
      await page.keyboard.press('Tab');
      focused.push(await page.evaluate(() => document.activeElement?.textContent ?? ''));
    }
    expect(focused).to.deep.equal([
      'English',
      `${m.give}${m.forPurpose('newsletter')}`,
      `${m.withdraw}${m.forPurpose('newsletter')}`,
      `${m.give}${m.forPurpose('sms')}`,
      `${m.withdraw}${m.forPurpose('sms')}`,
      `${m.object}${m.forPurpose('interest')}`,
    ]);
    // Enter on a focused button submits its form, as a click does.
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Enter');
    await page.waitForURL(/done=withdrawn&purpose=sms/);
    await context.close();
  });

  it('axe-core looked at every page of the journeys in both languages; the README shows some of them', () => {
    for (const language of ['fr', 'en'])
      expect(
        [...audited].filter((name) => name.endsWith(`.${language}.js`)),
        language,
      ).to.have.length(5);
    if (process.env['UPDATE_DOCS_SCREENSHOTS'] === '1') {
      for (const name of DOCS_SCREENSHOTS) copyFileSync(`${ARTIFACTS}/${name}.png`, `docs/${name}.png`);
    }
  });
});
