import { expect } from 'chai';
import { issueConsentLink } from '../../src/app/consent-links.js';
import { contactTimeline } from '../../src/app/contact-timeline.js';
import { exportThroughLink, privacyPage } from '../../src/app/privacy-center.js';
import { publishDemo } from '../../src/demo/demo.js';
import { inactivityCutoff } from '../../src/domain/inactive-contacts.js';
import { MESSAGES } from '../../src/web/messages/index.js';
import { renderPrintPage, renderPrivacyPage } from '../../src/web/render.js';
import type { StoredEvent } from '../../src/store/event-store.js';
import { expectedRun, readLog } from '../support/batch-oracle.js';
import { openTestLedger, type TestLedger } from '../support/ledger.js';

// An order is named by its activities, its payments and its purge.
const ORDER_TYPES = new Set([
  'OptionTaken',
  'OptionConfirmed',
  'ReservationMade',
  'TicketSold',
  'PaymentReceived',
  'OrderDataPurged',
]);
const SAMPLE = 400;
const PRINTED = 60;

/**
 * The privacy center's pages of the demo institution's people (5,000 contacts over two seeds):
 * each page holds the person's own orders and nothing of anyone else, and its forget date agrees
 * with what the inactive batch would do, as the batch oracle (test/support/batch-oracle.ts)
 * computes it from the log without the ledger's rules.
 */
for (const seed of [11, 23]) {
  describe(`privacy center on the demo institution (2,500 contacts, seed ${seed})`, function () {
    this.timeout(180_000);
    let ledger: TestLedger;
    let log: StoredEvent[];

    before(async () => {
      ledger = await openTestLedger();
      await publishDemo(ledger, { contacts: 2500, seed });
      await ledger.runner.catchUp();
      log = await readLog(ledger.store);
    });
    after(() => ledger.dispose());

    it('shows each their own orders, nobody else’s details, and when the batch would forget them', async () => {
      const now = ledger.now();
      const expected = expectedRun(log, { cutoff: inactivityCutoff(now, 36), now });
      // Each contact's outcome at a run today, as the oracle computes it without the ledger's rules.
      const outcomeOf = new Map<string, string>();
      for (const [outcome, ids] of Object.entries(expected.contacts)) for (const id of ids) outcomeOf.set(id, outcome);
      const streams = new Map<string, StoredEvent[]>();
      for (const event of log.filter((e) => e.stream.startsWith('contact-'))) {
        streams.set(event.stream, [...(streams.get(event.stream) ?? []), event]);
      }
      // Every e-mail the demo holds, to look for on pages where it must not be.
      const emails = new Map<string, string>();
      const contacts = [...streams.keys()].map((stream) => stream.slice('contact-'.length));
      const step = Math.max(1, Math.floor(contacts.length / SAMPLE));
      const sample = contacts.filter((_, i) => i % step === 0);
      const pages: Array<{ contactId: string; html: string }> = [];
      const beneficiaries: Array<{ contactId: string; email: string; html: string }> = [];
      let withOrders = 0;
      let passed = 0;
      for (const contactId of sample) {
        const { token } = await issueConsentLink(ledger, contactId);
        const page = await privacyPage(ledger, token);
        if (page.details.email) emails.set(page.details.email, contactId);
        const own = streams.get(`contact-${contactId}`)!;
        const orderIds = new Set(own.filter((e) => ORDER_TYPES.has(e.type)).map((e) => String(e.data['orderId'])));
        expect(page.orders.map((o) => o.orderId).sort(), contactId).to.deep.equal([...orderIds].sort());
        if (orderIds.size > 0) withOrders += 1;
        const role = own.find((e) => e.type === 'ContactRegistered')?.data['role'];
        const outcome = outcomeOf.get(contactId);
        const said = page.inactivity && { passed: page.inactivity.passed, outcome: page.inactivity.outcome };
        if (role !== 'individual' && role !== 'relay') expect(said, contactId).to.equal(null);
        else if (outcome === 'anonymized' || outcome === 'erased')
          expect(said, contactId).to.deep.equal({ passed: true, outcome });
        // Skipped by a run today: no date is promised (a hold or a balance keeps them).
        else if (outcome === 'skippedLegalHold' || outcome === 'skippedDebtorOrCreditor')
          expect(said, contactId).to.equal(null);
        // A ticket still valid today keeps a customer past the period: the page says soon.
        else if (outcome === 'skippedValidTicket') expect(said?.passed, contactId).to.equal(true);
        else expect(said?.passed ?? false, contactId).to.equal(false);
        if (page.inactivity?.passed) passed += 1;
        const frame = {
          language: 'fr' as const,
          messages: MESSAGES.fr,
          institution: { name: null, privacyPolicyUrl: null },
        };
        let html = renderPrivacyPage({ ...frame, token, formToken: 'f', page });
        if (pages.length < PRINTED) {
          const exported = await exportThroughLink(ledger, token);
          html += renderPrintPage({ ...frame, token, formToken: 'f', page, exported });
        }
        pages.push({ contactId, html });
        // The beneficiaries their orders name (another person): read with every seal opened.
        for (const event of await contactTimeline(ledger, contactId)) {
          const email = (event.data['beneficiary'] as { email?: string } | undefined)?.email;
          if (email && email !== page.details.email) beneficiaries.push({ contactId, email, html });
        }
      }
      expect(beneficiaries.length, 'beneficiaries named').to.be.greaterThan(0);
      for (const { contactId, email, html } of beneficiaries) {
        expect(html.includes(email), `beneficiary ${email} on ${contactId}'s page`).to.equal(false);
      }
      // The demo makes the cases this test is about.
      expect(withOrders, 'people with orders').to.be.greaterThan(SAMPLE / 10);
      expect(passed, 'people past the inactivity period').to.be.greaterThan(0);
      for (const { contactId, html } of pages) {
        for (const [email, owner] of emails) {
          if (owner !== contactId) expect(html.includes(email), `${email} on ${contactId}'s page`).to.equal(false);
        }
      }
    });
  });
}
