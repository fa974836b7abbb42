import { ValidationError } from '../domain/errors.js';
import { target, type TargetingRequest, type TargetingResult } from '../domain/targeting.js';
import type { ReadModels } from '../projections/read-models.js';

export type TargetingAnswer = TargetingResult &
  Pick<TargetingRequest, 'campaignType' | 'channel'> & { strictConsent: boolean };

/**
 * A campaign's audience from the read models: the contacts given, the consent-renewal audience
 * (individuals and relays whose recency is before a date, nearing the inactivity limit), or every
 * registered contact; optionally only those who dealt with an organisation. Reads only: the
 * campaign is sent elsewhere.
 */
export async function targetCampaign(
  context: { readModels: Pick<ReadModels, 'targetingFacts'> },
  request: TargetingRequest,
  recencyBefore?: Date,
): Promise<TargetingAnswer> {
  if (request.contactIds && recencyBefore) {
    throw new ValidationError('give contactIds or recencyBefore, not both', [
      { pointer: '/recencyBefore', message: 'cannot be given with contactIds' },
    ]);
  }
  const strictConsent = request.strictConsent ?? true;
  const facts = await context.readModels.targetingFacts(
    {
      ...(request.contactIds ? { contactIds: request.contactIds } : {}),
      ...(recencyBefore ? { recencyBefore: recencyBefore.toISOString() } : {}),
      ...(request.organizationId !== undefined ? { organizationId: request.organizationId } : {}),
    },
    request.channel,
  );
  // Ids given are answered in their order, an unknown one (or one outside the organisation) as such.
  const candidates = request.contactIds
    ? request.contactIds.map((contactId) => [contactId, facts.get(contactId) ?? null] as const)
    : facts.entries();
  const result = target(candidates, { campaignType: request.campaignType, strictConsent });
  return { campaignType: request.campaignType, channel: request.channel, strictConsent, ...result };
}
