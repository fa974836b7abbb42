import { expect } from 'chai';
import fc from 'fast-check';
import { answerThroughLink, issueConsentLink } from '../../src/app/consent-links.js';
import {
  correctDetailsThroughLink,
  privacyPage,
  requestErasureThroughLink,
  type DetailCorrections,
} from '../../src/app/privacy-center.js';
import { configurePurpose } from '../../src/app/purposes.js';
import { publish } from '../../src/app/publish.js';
import { configureTestPurposes, person, registered } from '../support/events.js';
import { openTestLedger, type TestLedger } from '../support/ledger.js';

const PURPOSES = ['newsletter', 'sms', 'interest'] as const;

/** What a person does on their page, drawn at random. */
const action = fc.oneof(
  fc.record({ kind: fc.constant('answer' as const), purpose: fc.constantFrom(...PURPOSES), yes: fc.boolean() }),
  fc.record({
    kind: fc.constant('correct' as const),
    corrections: fc.record(
      {
        lastName: fc.constantFrom('Martin', 'Bernard', 'Dubois'),
        email: fc.constantFrom('a@example.org', 'b@example.org'),
        phone: fc.constantFrom('+33 6 12 34 56 78', '01 23 45 67 89'),
        address: fc.record({ town: fc.constantFrom('Lyon', 'Nantes'), postcode: fc.constantFrom('69001', '44000') }),
      },
      { requiredKeys: [] },
    ),
  }),
  fc.record({ kind: fc.constant('erasure' as const) }),
);

/**
 * The privacy center's use cases over random sequences of a person's actions (issue 26): the page
 * always shows what a plain model of those actions says (each purpose's last answer, the latest
 * value of each detail, one pending request), and an action that changes nothing appends nothing.
 */
describe('privacy center: random sequences of a person’s actions (property)', function () {
  this.timeout(300_000);
  let ledger: TestLedger;

  before(async () => {
    ledger = await openTestLedger();
    await configureTestPurposes(ledger);
    await configurePurpose(ledger, 'interest', { kind: 'legalBasis', channel: 'all' });
  });
  after(() => ledger.dispose());

  it('the page is the model of what the person did; what changes nothing appends nothing', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(action, { maxLength: 12 }), async (actions) => {
        const p = person();
        await publish(ledger, registered(p));
        const { token } = await issueConsentLink(ledger, p.contactId);
        const consents = new Map<string, string>();
        const details: Record<string, unknown> = { ...(await privacyPage(ledger, token)).details };
        let pending = false;
        for (const step of actions) {
          const before = await ledger.store.headPosition();
          let changes = false;
          if (step.kind === 'answer') {
            // A legal basis is objected to on the page, never given (the router refuses the "yes").
            if (step.purpose === 'interest' && step.yes) continue;
            const answer = step.yes ? 'yes' : 'no';
            changes = consents.get(step.purpose) !== answer;
            await answerThroughLink(
              ledger,
              token,
              { purpose: step.purpose, answer, wordingVersion: 'w1' },
              '192.0.2.1',
            );
            consents.set(step.purpose, answer);
          } else if (step.kind === 'correct') {
            const corrections: DetailCorrections = { ...step.corrections };
            const next = { ...details, ...corrections };
            changes = JSON.stringify(next) !== JSON.stringify(details);
            expect(await correctDetailsThroughLink(ledger, token, corrections, '192.0.2.1')).to.equal(changes);
            Object.assign(details, corrections);
          } else {
            changes = !pending;
            await requestErasureThroughLink(ledger, token, '192.0.2.1');
            pending = true;
          }
          expect(await ledger.store.headPosition(), JSON.stringify(step)).to.equal(before + (changes ? 1 : 0));
        }
        const page = await privacyPage(ledger, token);
        for (const purpose of PURPOSES) {
          const shown = page.purposes.find((p) => p.code === purpose)!;
          expect(shown.status, purpose).to.equal(consents.get(purpose) ?? 'unknown');
          if (consents.has(purpose)) expect(shown.source).to.equal('portal');
        }
        expect(page.details).to.deep.equal(details);
        expect(page.erasure?.status ?? null).to.equal(pending ? 'pending' : null);
      }),
      { numRuns: 30 },
    );
  });
});
