import { expect } from 'chai';
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { chromium, type Browser, type Page } from 'playwright-core';
import { openTestLedger, type TestLedger } from '../support/ledger.js';
import { startApi, type Api } from '../support/http.js';
import { configureTestPurposes, person, registered } from '../support/events.js';
import { configurePurpose } from '../../src/app/purposes.js';
import { issueConsentLink } from '../../src/app/consent-links.js';

/** Debian's chromium (.ci/run installs it when missing); CHROMIUM_PATH for another. */
const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
/** Screenshots of each page, git-ignored; UPDATE_DOCS_SCREENSHOTS=1 copies them to docs/ as well. */
const ARTIFACTS = 'artifacts';
const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: Array<{ target: unknown }>;
}

/** axe-core's violations on the page as loaded (injected in a context that allows script: see below). */
async function axeViolations(page: Page): Promise<AxeViolation[]> {
  await page.addScriptTag({ path: AXE });
  return page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run(): Promise<{ violations: AxeViolation[] }> } }).axe;
    return (await axe.run()).violations;
  });
}

/** The privacy center in a real browser, as a person uses it: JavaScript off, mouse and keyboard. */
describe('privacy center in a real browser (chromium, JavaScript off)', function () {
  this.timeout(120_000);
  let ledger: TestLedger;
  let api: Api;
  let browser: Browser;

  before(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`no browser at ${CHROMIUM}: apt-get install chromium (see .ci/run)`);
    ledger = await openTestLedger();
    api = await startApi(ledger);
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

  it('the person gives a consent with one click, sees it confirmed; axe finds nothing serious', async () => {
    const p = person();
    expect((await api.post('/v1/events', registered(p))).status).to.equal(201);
    const { token } = await issueConsentLink(ledger, p.contactId);
    const url = `${api.url}/privacy/${token}`;

    const person_ = await browser.newContext({ javaScriptEnabled: false, locale: 'fr-FR' });
    const page = await person_.newPage();
    await page.goto(url);
    expect(await page.locator('h1').textContent()).to.equal('Vos données et vos choix');
    await page.getByRole('button', { name: 'Donner mon accord : newsletter' }).click();
    await page.waitForURL(/done=given/);
    const banner = page.getByRole('status');
    expect(await banner.textContent()).to.include('Vous avez donné votre accord pour « newsletter »');
    expect((await api.get(`/v1/contacts/${p.contactId}`)).body.consents.newsletter.status).to.equal('yes');
    await page.screenshot({ path: `${ARTIFACTS}/privacy-center.fr.png`, fullPage: true });
    // The keyboard alone reaches the language switch first, then the buttons, in the order of the page.
    const focused: string[] = [];
    for (let i = 0; i < 4; i++) {
      await page.keyboard.press('Tab');
      focused.push(await page.evaluate(() => document.activeElement?.textContent ?? ''));
    }
    expect(focused).to.deep.equal([
      'English',
      'Retirer mon accord : newsletter',
      'Donner mon accord : sms',
      'Retirer mon accord : sms',
    ]);
    await page.goto(`${url}?lang=en`);
    await page.screenshot({ path: `${ARTIFACTS}/privacy-center.en.png`, fullPage: true });
    await person_.close();
    if (process.env['UPDATE_DOCS_SCREENSHOTS'] === '1') {
      copyFileSync(`${ARTIFACTS}/privacy-center.fr.png`, 'docs/privacy-center.fr.png');
    }

    // axe is a script: it runs in a second context that allows one (bypassing the page's CSP, which
    // forbids any), on the same pages, in both languages, the banner shown.
    const auditor = await browser.newContext({ javaScriptEnabled: true, bypassCSP: true });
    const audited = await auditor.newPage();
    for (const language of ['fr', 'en']) {
      await audited.goto(`${url}?lang=${language}&done=given&purpose=newsletter`);
      const serious = (await axeViolations(audited)).filter((v) => v.impact === 'serious' || v.impact === 'critical');
      expect(serious.map(({ id, help, nodes }) => `${language} ${id}: ${help} (${nodes.length})`)).to.deep.equal([]);
    }
    await auditor.close();
  });
});
