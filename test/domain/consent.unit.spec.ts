import { expect } from 'chai';
import {
  consentRuleFailure,
  expiredPurposes,
  foldConsents,
  linkAnswerChangesNothing,
  type ConsentInput,
  type LinkAnswer,
  type ConsentState,
} from '../../src/domain/consent.js';
import type { EventType } from '../../src/domain/catalog.js';
import {
  decideConfigurePurpose,
  PurposeTimeline,
  type PurposeEvent,
  type PurposeSettings,
} from '../../src/domain/purposes.js';
import { RuleViolation } from '../../src/domain/errors.js';

/**
 * The rules of consent-expiry.fr.txt, one row each: a log of purpose configurations and contact
 * events (in log order), the day the expiry job runs, and the purposes it expires.
 */
type Step = PurposeEvent | (ConsentInput & { position: number });
let position = 0;
const day = (date: string) => `${date}T12:00:00.000Z`;
const configure = (date: string, code: string, settings: Partial<PurposeSettings> = {}): Step => ({
  type: 'PurposeConfigured',
  position: ++position,
  occurredAt: day(date),
  data: { code, kind: 'consent', channel: 'email', ...settings },
});
const on = (type: EventType, date: string, data: Record<string, unknown> = {}): Step => ({
  type,
  position: ++position,
  occurredAt: day(date),
  data,
});
const given = (date: string, purpose = 'newsletter', source = 'portal') =>
  on('ConsentGiven', date, { purpose, source, wordingVersion: 'v1', preChecked: false });
const click = (date: string) => on('MarketingLinkClicked', date, { campaignId: 'CMP-1', channel: 'email' });
const order = (date: string) => on('TicketSold', date, { orderId: `O-${position}`, product: { kind: 'undated' } });

function run(steps: Step[]): { state: ConsentState; timeline: PurposeTimeline } {
  const timeline = new PurposeTimeline(steps.filter((s): s is PurposeEvent => s.type === 'PurposeConfigured'));
  const contactEvents = steps.filter((s): s is ConsentInput & { position: number } => s.type !== 'PurposeConfigured');
  return { state: foldConsents(contactEvents, timeline), timeline };
}

const yearly = { expiryDays: 365 };
const rules: Array<[string, Step[], string, string[]]> = [
  [
    'a "yes" with no activity expires after its days',
    [configure('2020-01-01', 'newsletter', yearly), given('2021-01-01')],
    '2022-01-02',
    ['newsletter'],
  ],
  [
    'not before: the expiry is strictly before as-of',
    [configure('2020-01-01', 'newsletter', yearly), given('2021-01-01')],
    '2022-01-01',
    [],
  ],
  [
    'a purpose with no expiry never expires',
    [configure('2020-01-01', 'newsletter'), given('2021-01-01')],
    '2030-01-01',
    [],
  ],
  [
    'a configured prolonging activity moves the last activity date',
    [
      configure('2020-01-01', 'newsletter', { ...yearly, prolongedBy: ['MarketingLinkClicked'] }),
      given('2021-01-01'),
      click('2021-06-01'),
    ],
    '2022-03-01',
    [],
  ],
  [
    'an activity that is not configured prolongs nothing',
    [
      configure('2020-01-01', 'newsletter', { ...yearly, prolongedBy: ['TicketSold'] }),
      given('2021-01-01'),
      click('2021-06-01'),
    ],
    '2022-03-01',
    ['newsletter'],
  ],
  [
    'another consent given prolongs (acceptation d’un autre consentement)',
    [
      configure('2020-01-01', 'newsletter', { ...yearly, prolongedBy: ['ConsentGiven'] }),
      configure('2020-01-01', 'sms-offers', { channel: 'sms' }),
      given('2021-01-01'),
      given('2021-09-01', 'sms-offers'),
    ],
    '2022-06-01',
    [],
  ],
  [
    'a new order prolongs when configured',
    [
      configure('2020-01-01', 'newsletter', { ...yearly, prolongedBy: ['TicketSold'] }),
      given('2021-01-01'),
      order('2021-12-01'),
    ],
    '2022-06-01',
    [],
  ],
  [
    'first enabling on existing "yes": they count from the enabling moment, not from their date',
    [configure('2015-01-01', 'newsletter'), given('2016-01-01'), configure('2021-01-01', 'newsletter', yearly)],
    '2021-06-01',
    [],
  ],
  [
    'first enabling on existing "yes": they expire a full period after it',
    [configure('2015-01-01', 'newsletter'), given('2016-01-01'), configure('2021-01-01', 'newsletter', yearly)],
    '2022-01-02',
    ['newsletter'],
  ],
  [
    'expiry disabled after activity: the "yes" no longer expires',
    [
      configure('2020-01-01', 'newsletter', yearly),
      given('2020-02-01'),
      click('2020-03-01'),
      configure('2020-06-01', 'newsletter'),
    ],
    '2025-01-01',
    [],
  ],
  [
    'changed prolonging events count from the change, with no deactivate/reactivate',
    [
      configure('2020-01-01', 'newsletter', yearly),
      given('2021-01-01'),
      click('2021-03-01'),
      configure('2021-04-01', 'newsletter', { ...yearly, prolongedBy: ['MarketingLinkClicked'] }),
      click('2021-05-01'),
    ],
    '2022-04-15',
    [],
  ],
  [
    'changed prolonging events: an activity before the change was judged by the old configuration',
    [
      configure('2020-01-01', 'newsletter', yearly),
      given('2021-01-01'),
      click('2021-03-01'),
      configure('2021-04-01', 'newsletter', { ...yearly, prolongedBy: ['MarketingLinkClicked'] }),
    ],
    '2022-01-15',
    ['newsletter'],
  ],
  [
    'changed prolonging events: the last activity is kept, not reset to the day of the change',
    [
      configure('2020-01-01', 'newsletter', yearly),
      given('2021-01-01'),
      configure('2021-04-01', 'newsletter', { ...yearly, prolongedBy: ['MarketingLinkClicked'] }),
    ],
    '2022-01-15',
    ['newsletter'],
  ],
  [
    'judged in log order: an activity logged before the configuration does not prolong, whatever its date',
    [
      configure('2020-01-01', 'newsletter', yearly),
      given('2021-01-01'),
      click('2021-06-01'),
      configure('2021-05-01', 'newsletter', { ...yearly, prolongedBy: ['MarketingLinkClicked'] }),
    ],
    '2022-02-01',
    ['newsletter'],
  ],
  [
    'an import re-sending the same "yes" does not prolong it; the person renewing it does',
    [configure('2020-01-01', 'newsletter', yearly), given('2021-01-01'), given('2021-10-01', 'newsletter', 'import')],
    '2022-02-01',
    ['newsletter'],
  ],
  [
    'the person giving the same "yes" again renews it',
    [configure('2020-01-01', 'newsletter', yearly), given('2021-01-01'), given('2021-10-01', 'newsletter', 'form')],
    '2022-02-01',
    [],
  ],
  [
    'an expired "yes" is "unknown": nothing more to expire',
    [
      configure('2020-01-01', 'newsletter', yearly),
      given('2021-01-01'),
      on('ConsentExpired', '2022-02-01', { purpose: 'newsletter' }),
    ],
    '2024-01-01',
    [],
  ],
  [
    'a refusal never expires (only "yes" do)',
    [
      configure('2020-01-01', 'newsletter', yearly),
      on('ConsentWithdrawn', '2021-01-01', { purpose: 'newsletter', source: 'form' }),
    ],
    '2024-01-01',
    [],
  ],
  [
    'expiry disabled then enabled again counts from the new enabling',
    [
      configure('2020-01-01', 'newsletter', yearly),
      given('2020-02-01'),
      configure('2020-06-01', 'newsletter'),
      configure('2023-01-01', 'newsletter', yearly),
    ],
    '2023-06-01',
    [],
  ],
];

describe('consent expiry (consent-expiry.fr.txt)', () => {
  for (const [rule, steps, asOf, expected] of rules) {
    it(rule, () => {
      const { state, timeline } = run(steps);
      expect(expiredPurposes(state, timeline.current, day(asOf))).to.deep.equal(expected);
    });
  }
});

/**
 * An answer through a consent link that changes nothing appends nothing: one row per case, the log,
 * the answer given on the newsletter at a moment, and whether it changes nothing.
 */
const withdrawn = (date: string) => on('ConsentWithdrawn', date, { purpose: 'newsletter', source: 'portal' });
const givenWith = (date: string, wordingVersion: string) =>
  on('ConsentGiven', date, { purpose: 'newsletter', source: 'portal', wordingVersion, preChecked: false });
const yes = (wordingVersion = 'v1'): Omit<LinkAnswer, 'purpose'> => ({ answer: 'yes', wordingVersion });
const no: Omit<LinkAnswer, 'purpose'> = { answer: 'no', wordingVersion: '' };
const linkAnswers: Array<[string, Step[], Omit<LinkAnswer, 'purpose'>, string, boolean]> = [
  [
    'a "no" where the purpose is already "no"',
    [configure('2024-01-01', 'newsletter'), withdrawn('2024-01-02')],
    no,
    day('2024-03-01'),
    true,
  ],
  [
    'a "no" where it is "yes" withdraws it',
    [configure('2024-01-01', 'newsletter'), given('2024-01-02')],
    no,
    day('2024-03-01'),
    false,
  ],
  ['a "no" never answered before is recorded', [configure('2024-01-01', 'newsletter')], no, day('2024-03-01'), false],
  [
    'the same "yes" with the same wording',
    [configure('2024-01-01', 'newsletter'), given('2024-01-02')],
    yes(),
    day('2025-03-01'),
    true,
  ],
  [
    'a "yes" to a wording not given before',
    [configure('2024-01-01', 'newsletter'), given('2024-01-02')],
    yes('v2'),
    day('2024-03-01'),
    false,
  ],
  [
    'a "yes" where it is "no"',
    [configure('2024-01-01', 'newsletter'), withdrawn('2024-01-02')],
    yes(),
    day('2024-03-01'),
    false,
  ],
  [
    'a "yes" after it expired back to unknown',
    [
      configure('2024-01-01', 'newsletter', yearly),
      given('2024-01-02'),
      on('ConsentExpired', '2025-01-05', { purpose: 'newsletter' }),
    ],
    yes(),
    day('2025-03-01'),
    false,
  ],
  [
    'the wording compared is the last one given',
    [configure('2024-01-01', 'newsletter'), givenWith('2024-01-02', 'v1'), givenWith('2024-02-02', 'v2')],
    yes('v2'),
    day('2024-03-01'),
    true,
  ],
  [
    'the same "yes" to an expiring purpose on a later day renews it',
    [configure('2024-01-01', 'newsletter', yearly), given('2024-01-02')],
    yes(),
    day('2024-03-01'),
    false,
  ],
  [
    'the same "yes" to an expiring purpose the same day moves its expiry by less than a day',
    [configure('2024-01-01', 'newsletter', yearly), given('2024-01-02')],
    yes(),
    '2024-01-02T23:59:00.000Z',
    true,
  ],
];

describe('an answer through a consent link that changes nothing', () => {
  for (const [rule, steps, answer, at, unchanged] of linkAnswers) {
    it(`${rule}: ${unchanged ? 'appends nothing' : 'is appended'}`, () => {
      const { timeline } = run(steps);
      const events = steps.filter((s): s is ConsentInput & { position: number } => s.type !== 'PurposeConfigured');
      expect(linkAnswerChangesNothing(events, timeline, { purpose: 'newsletter', ...answer }, at)).to.equal(unchanged);
    });
  }
});

describe('an expiry decided on a superseded activity', () => {
  it('changes nothing when an activity logged before it moved the last activity past the one it judged', () => {
    const { state } = run([
      configure('2020-01-01', 'newsletter', { ...yearly, prolongedBy: ['MarketingLinkClicked'] }),
      given('2021-01-01'),
      click('2022-01-10'),
      on('ConsentExpired', '2022-01-15', { purpose: 'newsletter', lastActivityAt: day('2021-01-01'), expiryDays: 365 }),
    ]);
    expect(state['newsletter']?.status).to.equal('yes');
  });

  it('applies when the last activity is the one it judged', () => {
    const { state } = run([
      configure('2020-01-01', 'newsletter', yearly),
      given('2021-01-01'),
      on('ConsentExpired', '2022-01-15', { purpose: 'newsletter', lastActivityAt: day('2021-01-01'), expiryDays: 365 }),
    ]);
    expect(state['newsletter']?.status).to.equal('unknown');
  });
});

describe('legal bases', () => {
  const legalBasis = (date: string, code: string, settings: Partial<PurposeSettings> = {}) =>
    configure(date, code, { kind: 'legalBasis', channel: 'all', ...settings });
  const refused = (code: string) => on('ConsentWithdrawn', '2021-02-01', { purpose: code, source: 'form' });

  it('an expired "order" legal basis comes back with a new order', () => {
    const { state } = run([
      legalBasis('2020-01-01', 'order', yearly),
      order('2021-01-01'),
      on('ConsentExpired', '2022-02-01', { purpose: 'order' }),
      order('2022-03-01'),
    ]);
    expect(state['order']).to.include({ status: 'yes', changedAt: day('2022-03-01') });
  });

  it('a refused "order" legal basis stays refused after a new order (an objection stands)', () => {
    const { state } = run([
      legalBasis('2020-01-01', 'order'),
      order('2021-01-01'),
      refused('order'),
      order('2022-03-01'),
    ]);
    expect(state['order']?.status).to.equal('no');
  });

  it('a new order brings back no other legal basis, and none before "order" is configured', () => {
    const { state } = run([
      order('2020-06-01'),
      legalBasis('2021-01-01', 'order'),
      legalBasis('2021-01-01', 'interest'),
    ]);
    expect(state).to.deep.equal({});
  });

  // The refusal names the source that tried: the operator fixes that system, not "a form".
  const cases: Array<[string, string, string, RegExp | null]> = [
    ['a form', 'legalBasis', 'form', /refused by the person; a form cannot/],
    ['the self-service portal', 'legalBasis', 'portal', /refused by the person; the portal cannot/],
    ['an import', 'legalBasis', 'import', /refused by the person; an import cannot/],
    ['an operator recording the request', 'legalBasis', 'operator', null],
    ['a form, for a consent (not a legal basis)', 'consent', 'form', null],
  ];
  for (const [who, kind, source, refusedAgain] of cases) {
    it(`a refused ${kind} given again by ${who}: ${refusedAgain ? '422 naming the source' : 'accepted'}`, () => {
      const { state, timeline } = run([
        configure('2020-01-01', 'interest', { kind: kind as 'consent' }),
        refused('interest'),
      ]);
      const again = given('2021-03-01', 'interest', source);
      const failure = consentRuleFailure(state, timeline.current, again as ConsentInput);
      if (refusedAgain)
        expect(failure).to.include({ pointer: '/data/source' }).and.have.property('message').that.match(refusedAgain);
      else expect(failure).to.equal(null);
    });
  }

  it('a consent for a purpose that is not configured is refused, whatever its source', () => {
    const failure = consentRuleFailure({}, new Map(), given('2021-01-01', 'unknown-purpose') as ConsentInput);
    expect(failure).to.include({ pointer: '/data/purpose', message: 'purpose unknown-purpose is not configured' });
  });
});

describe('purpose configuration', () => {
  const timeline = new PurposeTimeline([configure('2020-01-01', 'newsletter', yearly) as PurposeEvent]);

  it('the same configuration again changes nothing (a repeated PUT appends nothing)', () => {
    expect(
      decideConfigurePurpose(timeline.current, 'newsletter', { kind: 'consent', channel: 'email', ...yearly }),
    ).to.equal(null);
    expect(
      decideConfigurePurpose(timeline.current, 'newsletter', { kind: 'consent', channel: 'sms', ...yearly }),
    ).to.deep.equal({
      code: 'newsletter',
      kind: 'consent',
      channel: 'sms',
      expiryDays: 365,
    });
  });

  it('a purpose cannot change kind', () => {
    expect(() =>
      decideConfigurePurpose(timeline.current, 'newsletter', { kind: 'legalBasis', channel: 'all' }),
    ).to.throw(RuleViolation, /cannot change kind/);
  });

  it('answers the configuration recorded before a position', () => {
    expect(timeline.at(1).size).to.equal(0);
    expect(timeline.at(position + 1).get('newsletter')?.expiryDays).to.equal(365);
  });
});
