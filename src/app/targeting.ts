import { ValidationError } from '../domain/errors.js';
import { Type, type Static } from '@sinclair/typebox';
import { Obj } from '../domain/schema-kit.js';
import { TargetingRequest, TargetingResult } from '../domain/targeting.js';
import type { ReadModels } from '../projections/read-models.js';
import type { EventStore } from '../store/event-store.js';
import { withForgettingsSince } from './forgotten-since.js';

export const TargetingAnswer = Obj(
  {
    campaignType: TargetingRequest.properties.campaignType,
    channel: TargetingRequest.properties.channel,
    strictConsent: Type.Boolean(),
    ...TargetingResult.properties,
  },
  { title: 'TargetingAnswer' },
);
export type TargetingAnswer = Static<typeof TargetingAnswer>;

/**
 * A campaign's audience from the read models: the contacts given, the consent-renewal audience
 * (individuals and relays whose recency is before a date, nearing the inactivity limit), or every
 * registered contact; optionally only those who dealt with an organisation. Reads only: the
 * campaign is sent elsewhere.
 */
export async function targetCampaign(
  context: { store: Pick<EventStore, 'readByTypes'>; readModels: Pick<ReadModels, 'target' | 'checkpoint'> },
  request: TargetingRequest,
  recencyBefore?: Date,
): Promise<TargetingAnswer> {
  if (request.contactIds && recencyBefore) {
    throw new ValidationError('give contactIds or recencyBefore, not both', [
      { pointer: '/recencyBefore', message: 'cannot be given with contactIds' },
    ]);
  }
  const { campaignType, channel, contactIds } = request;
  const strictConsent = request.strictConsent ?? true;
  const { result: found, forgotten } = await withForgettingsSince(context, () =>
    context.readModels.target(
      {
        ...(contactIds ? { contactIds } : {}),
        ...(recencyBefore ? { recencyBefore: recencyBefore.toISOString() } : {}),
        ...(request.organizationId !== undefined ? { organizationId: request.organizationId } : {}),
      },
      { campaignType, strictConsent, channel },
    ),
  );
  const result = withoutForgotten(found, forgotten);
  const answer = { campaignType, channel, strictConsent, ...result };
  if (!contactIds) return answer;
  // Ids given are answered in their order; one the read models do not hold is unknown.
  const eligible = new Set(result.eligible);
  return {
    ...answer,
    eligible: contactIds.filter((contactId) => eligible.has(contactId)),
    excluded: { ...result.excluded, unknownContact: contactIds.length - result.considered },
    considered: contactIds.length,
  };
}

/** The audience less the contacts forgotten since the read models' position: counted as forgotten. */
function withoutForgotten(result: TargetingResult, forgotten: ReadonlySet<string>): TargetingResult {
  const eligible = result.eligible.filter((contactId) => !forgotten.has(contactId));
  const dropped = result.eligible.length - eligible.length;
  if (dropped === 0) return result;
  return { ...result, eligible, excluded: { ...result.excluded, forgotten: result.excluded.forgotten + dropped } };
}
