import { Type, type Static } from '@sinclair/typebox';
import { CalendarDate, Instant, OneOf, OpaqueId } from './schema-kit.js';

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
    recencyBefore: Type.Optional(Type.Union([CalendarDate(), Instant()])),
    organizationId: Type.Optional(OpaqueId()),
  },
  { additionalProperties: false },
);
export type TargetingRequest = Static<typeof TargetingRequest>;

export const EXCLUSION_REASONS = [
  'unknownContact',
  'forgotten',
  'restricted',
  'refusedInGeneral',
  'refusedOnChannel',
  'noExplicitYes',
] as const;
export type ExclusionReason = (typeof EXCLUSION_REASONS)[number];

/**
 * What targeting knows of a contact, from the read models: no personal data. The answers are
 * folded over the purposes as configured now: a refusal or a "yes" on a purpose of the campaign's
 * channel or of every channel; a legal basis in force (a customer's "order") counts as a "yes",
 * an objection to one as a refusal.
 */
export interface TargetFacts {
  forgotten: boolean;
  restricted: boolean;
  refusedInGeneral: boolean;
  refusedOnChannel: boolean;
  yesOnChannel: boolean;
  /** Any "yes" or "no" at all: a contact with neither is what the reference pages advise keeping few. */
  answered: boolean;
}

/** Why a contact is left out of a campaign, or null when it is eligible. */
export function exclusionOf(
  facts: TargetFacts | null,
  campaign: { campaignType: 'marketing' | 'operational'; strictConsent: boolean },
): ExclusionReason | null {
  if (!facts) return 'unknownContact';
  if (facts.forgotten) return 'forgotten';
  if (facts.restricted) return 'restricted';
  if (campaign.campaignType === 'operational') return null;
  if (facts.refusedInGeneral) return 'refusedInGeneral';
  if (facts.refusedOnChannel) return 'refusedOnChannel';
  if (campaign.strictConsent && !facts.yesOnChannel) return 'noExplicitYes';
  return null;
}

export interface TargetingResult {
  eligible: string[];
  excluded: Record<ExclusionReason, number>;
  /** Contacts considered (forgotten and unknown ones aside) with neither a "yes" nor a "no" to any purpose. */
  withoutAnswer: number;
  considered: number;
}

/** Tallies a campaign's audience: the eligible ids, in the order given, and the count of each exclusion. */
export function target(
  candidates: Iterable<readonly [string, TargetFacts | null]>,
  campaign: { campaignType: 'marketing' | 'operational'; strictConsent: boolean },
): TargetingResult {
  const eligible: string[] = [];
  const excluded = Object.fromEntries(EXCLUSION_REASONS.map((reason) => [reason, 0])) as Record<
    ExclusionReason,
    number
  >;
  let withoutAnswer = 0;
  let considered = 0;
  for (const [contactId, facts] of candidates) {
    considered++;
    const reason = exclusionOf(facts, campaign);
    if (facts && !facts.forgotten && !facts.answered) withoutAnswer++;
    if (reason === null) eligible.push(contactId);
    else excluded[reason]++;
  }
  return { eligible, excluded, withoutAnswer, considered };
}
