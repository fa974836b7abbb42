import { Type, type Static, type TInteger } from '@sinclair/typebox';
import type { PurposesState } from './purposes.js';
import { DayOrInstant, Obj, OneOf, OpaqueId } from './schema-kit.js';

/**
 * Marketing targeting (DESIGN.md "Consent"; reference: ticketing-gdpr-features-v2.en.txt, "SAM
 * targeting", and the consent-renewal campaign of ticketing-gdpr-features-v1.fr.txt). A campaign
 * never reaches a forgotten or restricted contact; a marketing campaign leaves out refusals, in
 * general or on its channel, and, in strict mode (the default), contacts with no explicit "yes".
 * An operational campaign (information tied to a purchase) skips the consent filter only.
 */
export const CAMPAIGN_CHANNELS = ['email', 'sms', 'post', 'phone'] as const;

/** The body of POST /v1/targeting: one schema gives the type and the validator. */
export const TargetingRequest = Type.Object(
  {
    campaignType: OneOf(['marketing', 'operational']),
    channel: OneOf(CAMPAIGN_CHANNELS),
    strictConsent: Type.Optional(Type.Boolean()),
    contactIds: Type.Optional(Type.Array(OpaqueId(), { minItems: 1, maxItems: 100_000, uniqueItems: true })),
    recencyBefore: Type.Optional(DayOrInstant()),
    organizationId: Type.Optional(OpaqueId()),
  },
  { additionalProperties: false },
);
export type TargetingRequest = Static<typeof TargetingRequest>;

export const EXCLUSION_REASONS = [
  'unknownContact',
  'otherOrganization',
  'forgotten',
  'restricted',
  'refusedInGeneral',
  'refusedOnChannel',
  'noExplicitYes',
] as const;
export type ExclusionReason = (typeof EXCLUSION_REASONS)[number];

/**
 * What targeting knows of a contact, from the read models: no personal data. The answers are
 * judged by the purposes as configured now: a refusal or a "yes" on a purpose of the campaign's
 * channel or of every channel; a legal basis in force (a customer's "order") counts as a "yes",
 * an objection to one as a refusal.
 */
export interface TargetFacts {
  /** Never dealt with the campaign's organisation (a campaign limited to one). */
  otherOrganization: boolean;
  forgotten: boolean;
  restricted: boolean;
  refusedInGeneral: boolean;
  refusedOnChannel: boolean;
  yesOnChannel: boolean;
  /** Any "yes" or "no" at all: a contact with neither is what the reference pages advise keeping few. */
  answered: boolean;
}

export interface Campaign {
  campaignType: 'marketing' | 'operational';
  strictConsent: boolean;
  /** Limited to the contacts of one organisation (`organizationId`). */
  byOrganization?: boolean;
}

/** One exclusion: its reason holds when the fact has this value. */
export interface ExclusionCheck {
  reason: ExclusionReason;
  fact: keyof TargetFacts;
  when: boolean;
}

/**
 * The exclusions of a campaign in the order they are checked; the first that holds is the reason.
 * The read models run the same list as SQL over every contact (see targetingSql). A contact of
 * another organisation is known, so not `unknownContact`; it is out of the campaign's scope before
 * anything about it counts, so its reason comes first.
 */
export function exclusionChecks(campaign: Campaign): ExclusionCheck[] {
  const never: ExclusionCheck[] = [
    ...(campaign.byOrganization
      ? [{ reason: 'otherOrganization', fact: 'otherOrganization', when: true } as const]
      : []),
    { reason: 'forgotten', fact: 'forgotten', when: true },
    { reason: 'restricted', fact: 'restricted', when: true },
  ];
  if (campaign.campaignType === 'operational') return never;
  return [
    ...never,
    { reason: 'refusedInGeneral', fact: 'refusedInGeneral', when: true },
    { reason: 'refusedOnChannel', fact: 'refusedOnChannel', when: true },
    ...(campaign.strictConsent ? [{ reason: 'noExplicitYes', fact: 'yesOnChannel', when: false } as const] : []),
  ];
}

/** Why a contact is left out of a campaign, or null when it is eligible. */
export function exclusionOf(facts: TargetFacts | null, campaign: Campaign): ExclusionReason | null {
  if (!facts) return 'unknownContact';
  return exclusionChecks(campaign).find((check) => facts[check.fact] === check.when)?.reason ?? null;
}

/**
 * The answers (see consentAnswers) that make each fact true, under the purposes as configured now:
 * `,code=n,` of a purpose of every channel, or of the campaign's; `,code=y,` of either.
 */
export function answerPatterns(purposes: PurposesState, channel: string) {
  const all = [...purposes.values()].filter((purpose) => purpose.channel === 'all').map((purpose) => purpose.code);
  const onChannel = [...purposes.values()].filter((p) => p.channel === channel).map((purpose) => purpose.code);
  return {
    refusedInGeneral: all.map((code) => `,${code}=n,`),
    refusedOnChannel: onChannel.map((code) => `,${code}=n,`),
    yesOnChannel: [...all, ...onChannel].map((code) => `,${code}=y,`),
  };
}
export type AnswerPatterns = ReturnType<typeof answerPatterns>;

const Count = () => Type.Integer({ minimum: 0 });
/** The audience of a campaign (the API document's schema; the type derives from it). */
export const TargetingResult = Obj({
  eligible: Type.Array(Type.String()),
  excluded: Obj(
    Object.fromEntries(EXCLUSION_REASONS.map((reason) => [reason, Count()])) as Record<ExclusionReason, TInteger>,
  ),
  withoutAnswer: Type.Integer({
    minimum: 0,
    description:
      'contacts considered (forgotten, unknown and other organisations\' aside) with neither a "yes" nor a "no"',
  }),
  considered: Count(),
});
export type TargetingResult = Static<typeof TargetingResult>;
