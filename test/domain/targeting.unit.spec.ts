import { expect } from 'chai';
import { answerPatterns, exclusionOf, type ExclusionReason, type TargetFacts } from '../../src/domain/targeting.js';
import { consentAnswers, type ConsentStatus } from '../../src/domain/consent.js';
import { PurposeTimeline } from '../../src/domain/purposes.js';

const entry = (status: ConsentStatus) => ({
  status,
  changedAt: '2024-01-01T00:00:00.000Z',
  lastActivityAt: '2024-01-01T00:00:00.000Z',
});

const none: TargetFacts = {
  otherOrganization: false,
  forgotten: false,
  restricted: false,
  refusedInGeneral: false,
  refusedOnChannel: false,
  yesOnChannel: false,
  answered: false,
};
const marketing = { campaignType: 'marketing', strictConsent: true } as const;
const lenient = { campaignType: 'marketing', strictConsent: false } as const;
const operational = { campaignType: 'operational', strictConsent: true } as const;
const ofOneOrganization = { ...operational, byOrganization: true } as const;
type Campaign = typeof marketing | typeof lenient | typeof operational | typeof ofOneOrganization;

/** One row per exclusion of DESIGN.md "Consent" and the reference's SAM targeting. */
const rows: Array<[string, TargetFacts | null, Campaign, ExclusionReason | null]> = [
  ['an unknown contact', null, marketing, 'unknownContact'],
  [
    'a contact of another organisation, before anything else about it',
    { ...none, otherOrganization: true, forgotten: true },
    ofOneOrganization,
    'otherOrganization',
  ],
  [
    'the organisation counts only when the campaign is limited to one',
    { ...none, otherOrganization: true },
    operational,
    null,
  ],
  [
    'a forgotten contact, even for an operational campaign',
    { ...none, forgotten: true, yesOnChannel: true },
    operational,
    'forgotten',
  ],
  [
    'a restricted contact, even for an operational campaign',
    { ...none, restricted: true, yesOnChannel: true },
    operational,
    'restricted',
  ],
  [
    'a refusal in general (a purpose of every channel)',
    { ...none, refusedInGeneral: true, yesOnChannel: true },
    marketing,
    'refusedInGeneral',
  ],
  [
    'a refusal on the campaign channel',
    { ...none, refusedOnChannel: true, yesOnChannel: true },
    marketing,
    'refusedOnChannel',
  ],
  ['no explicit "yes" in strict mode (the default)', { ...none, answered: true }, marketing, 'noExplicitYes'],
  ['unknown (no answer at all) in strict mode', none, marketing, 'noExplicitYes'],
  ['unknown is eligible when strict mode is off', none, lenient, null],
  [
    'a refusal still excludes when strict mode is off',
    { ...none, refusedOnChannel: true },
    lenient,
    'refusedOnChannel',
  ],
  ['an explicit "yes" on the channel', { ...none, yesOnChannel: true, answered: true }, marketing, null],
  ['an operational campaign skips the consent filter only', { ...none, refusedInGeneral: true }, operational, null],
];

describe('targeting exclusions', () => {
  for (const [what, facts, campaign, expected] of rows) {
    it(`${what}: ${expected ?? 'eligible'}`, () => expect(exclusionOf(facts, campaign)).to.equal(expected));
  }

  it('reads refusals and "yes" from the purposes of every channel and of the campaign channel, now', () => {
    const purposes = new PurposeTimeline([
      {
        type: 'PurposeConfigured',
        position: 1,
        occurredAt: '2024-01-01T00:00:00.000Z',
        data: { code: 'partners', kind: 'consent', channel: 'all' },
      },
      {
        type: 'PurposeConfigured',
        position: 2,
        occurredAt: '2024-01-01T00:00:00.000Z',
        data: { code: 'newsletter', kind: 'consent', channel: 'email' },
      },
      {
        type: 'PurposeConfigured',
        position: 3,
        occurredAt: '2024-01-01T00:00:00.000Z',
        data: { code: 'sms', kind: 'consent', channel: 'sms' },
      },
    ]).current;
    expect(answerPatterns(purposes, 'email')).to.deep.equal({
      refusedInGeneral: [',partners=n,'],
      refusedOnChannel: [',newsletter=n,'],
      yesOnChannel: [',partners=y,', ',newsletter=y,'],
    });
    expect(consentAnswers({ sms: entry('no'), newsletter: entry('yes'), partners: entry('unknown') })).to.equal(
      ',newsletter=y,sms=n,',
    );
    expect(consentAnswers({ partners: entry('unknown') })).to.equal(',');
  });
});
