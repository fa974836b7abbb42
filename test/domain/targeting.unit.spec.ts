import { expect } from 'chai';
import { exclusionOf, target, type ExclusionReason, type TargetFacts } from '../../src/domain/targeting.js';

const none: TargetFacts = {
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

/** One row per exclusion of DESIGN.md "Consent" and the reference's SAM targeting. */
const rows: Array<
  [string, TargetFacts | null, typeof marketing | typeof lenient | typeof operational, ExclusionReason | null]
> = [
  ['an unknown contact', null, marketing, 'unknownContact'],
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

  it('tallies the eligible ids in order, each exclusion, and the contacts with no answer at all', () => {
    const result = target(
      [
        ['C-1', { ...none, yesOnChannel: true, answered: true }],
        ['C-2', none],
        ['C-3', { ...none, forgotten: true }],
        ['C-4', null],
        ['C-0', { ...none, yesOnChannel: true, answered: true }],
      ],
      marketing,
    );
    expect(result.eligible).to.deep.equal(['C-1', 'C-0']);
    expect(result.excluded).to.deep.include({ noExplicitYes: 1, forgotten: 1, unknownContact: 1, restricted: 0 });
    expect(result).to.include({ withoutAnswer: 1, considered: 5 });
  });
});
