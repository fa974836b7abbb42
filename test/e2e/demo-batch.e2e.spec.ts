import { expect } from 'chai';
import { openTestLedger, type TestLedger } from '../support/ledger.js';
import { publishDemo } from '../../src/demo/demo.js';
import { runInactiveBatch, type InactiveBatchReport } from '../../src/app/inactive-contacts-batch.js';
import type { StoredEvent } from '../../src/store/event-store.js';

const AS_OF = new Date('2026-11-30T00:00:00Z');
const CUTOFF = '2023-11-30T00:00:00.000Z'; // 36 months before

interface Expected {
  anonymized: string[];
  erased: string[];
  skippedDebtorOrCreditor: string[];
  skippedLegalHold: string[];
  ordersPurged: string[];
}

/**
 * What the batch must do with a log, written here from the reference pages without the ledger's
 * rules (no recency, flag or forgetting module): recency is the latest of option, confirmation,
 * reservation and sale (end of validity of a dated product, else the order date; for the buyer
 * and the cultural contact), waiting list, click, criterion change and consent change leaving a
 * "yes"; else the registration. Individuals and relays only; holds, then balances, are skipped;
 * a buyer or beneficiary is anonymized, a prospect erased. Orders whose validity all ended before
 * the cutoff are purged.
 */
function expectedOutcomes(log: readonly StoredEvent[]): Expected {
  interface Person {
    role: string | null;
    registeredAt: string | null;
    balance: number;
    hold: boolean;
    bought: boolean;
    latest: string | null;
    consents: Map<string, boolean>;
  }
  const people = new Map<string, Person>();
  const of = (id: string) => {
    let one = people.get(id);
    if (!one) {
      one = {
        role: null,
        registeredAt: null,
        balance: 0,
        hold: false,
        bought: false,
        latest: null,
        consents: new Map(),
      };
      people.set(id, one);
    }
    return one;
  };
  const touch = (one: Person, date: string) => {
    if (one.latest === null || date > one.latest) one.latest = date;
  };
  const orders = new Map<string, { end: string; buyer: Person }>();
  for (const event of log) {
    if (!event.stream.startsWith('contact-')) continue;
    const one = of(event.stream.slice('contact-'.length));
    const data = event.data as Record<string, any>;
    switch (event.type) {
      case 'ContactRegistered':
        one.role = data.role ?? one.role;
        one.registeredAt ??= event.occurredAt;
        break;
      case 'BalanceChanged':
        one.balance = data.balance;
        break;
      case 'LegalHoldPlaced':
        one.hold = true;
        break;
      case 'LegalHoldReleased':
        one.hold = false;
        break;
      case 'OptionTaken':
      case 'OptionConfirmed':
      case 'ReservationMade':
      case 'TicketSold': {
        const dated = data.product?.kind === 'dated' && data.product.validUntil;
        const date = dated ? data.product.validUntil : event.occurredAt;
        const beneficiaries = [one, ...(data.culturalContactId ? [of(data.culturalContactId)] : [])];
        for (const who of beneficiaries) {
          touch(who, date);
          if (event.type === 'TicketSold') who.bought = true;
        }
        // A ticket ends at its product's end of validity, an undated one without it on its sale date.
        const end: string = data.product?.validUntil ?? event.occurredAt;
        const known = orders.get(data.orderId);
        orders.set(data.orderId, { end: known && known.end > end ? known.end : end, buyer: known?.buyer ?? one });
        break;
      }
      case 'WaitingListJoined':
      case 'MarketingLinkClicked':
      case 'CriterionChanged':
        touch(one, event.occurredAt);
        break;
      case 'ConsentGiven':
      case 'ConsentWithdrawn': {
        // A change only (the demo's purposes are authorizations, none a legal basis).
        const changed = one.consents.get(data.purpose) !== (event.type === 'ConsentGiven');
        one.consents.set(data.purpose, event.type === 'ConsentGiven');
        if (changed && [...one.consents.values()].some(Boolean)) touch(one, event.occurredAt);
        break;
      }
    }
  }
  const expected: Expected = {
    anonymized: [],
    erased: [],
    skippedDebtorOrCreditor: [],
    skippedLegalHold: [],
    ordersPurged: [],
  };
  for (const [id, one] of people) {
    if (one.registeredAt === null || !['individual', 'relay'].includes(one.role ?? '')) continue;
    if ((one.latest ?? one.registeredAt) >= CUTOFF) continue;
    if (one.hold) expected.skippedLegalHold.push(id);
    else if (one.balance !== 0) expected.skippedDebtorOrCreditor.push(id);
    else if (one.bought) expected.anonymized.push(id);
    else expected.erased.push(id);
  }
  // The demo's orders hold one ticket each; a legal hold keeps its holder's from the purge.
  for (const [orderId, { end, buyer }] of orders) if (end < CUTOFF && !buyer.hold) expected.ordersPurged.push(orderId);
  for (const list of Object.values(expected)) list.sort();
  return expected;
}

const outcomesOf = (report: InactiveBatchReport): Expected => ({
  anonymized: [...report.contacts.anonymized].sort(),
  erased: [...report.contacts.erased].sort(),
  skippedDebtorOrCreditor: [...report.contacts.skippedDebtorOrCreditor].sort(),
  skippedLegalHold: [...report.contacts.skippedLegalHold].sort(),
  ordersPurged: [...report.ordersPurged].sort(),
});

/** The inactive batch on the demo institution, against outcomes computed without the batch's code. */
describe('inactive batch on the demo institution', function () {
  this.timeout(120_000);
  let ledger: TestLedger;
  let expected: Expected;

  before(async () => {
    ledger = await openTestLedger();
    await publishDemo(ledger, { contacts: 3000, seed: 11, until: new Date('2026-10-01T00:00:00Z') });
    await ledger.runner.catchUp();
    const log: StoredEvent[] = [];
    for (let after = 0; ;) {
      const page = await ledger.store.readAll({ after, limit: 5000 });
      if (page.length === 0) break;
      log.push(...page);
      after = page.at(-1)!.position;
    }
    expected = expectedOutcomes(log);
  });
  after(() => ledger.dispose());

  it('the demo holds every outcome class', () => {
    for (const [outcome, ids] of Object.entries(expected)) expect(ids.length, outcome).to.be.greaterThan(0);
    if (process.env['TEST_LOG'])
      console.log(
        Object.entries(expected)
          .map(([k, v]) => `${k} ${v.length}`)
          .join(', '),
      );
  });

  it('simulation and application both give the expected outcome of every contact and order', async () => {
    const simulated = await runInactiveBatch(ledger, { asOf: AS_OF });
    expect(outcomesOf(simulated.report)).to.deep.equal(expected);
    const applied = await runInactiveBatch(ledger, { asOf: AS_OF, apply: true });
    expect(outcomesOf(applied.report)).to.deep.equal(expected);
    expect(applied.report.counts.notInactiveInLog ?? 0).to.equal(0);
    expect(applied.report.counts.skippedValidTicket ?? 0).to.equal(0);
  });
});
