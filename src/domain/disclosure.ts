import { CONTACT_FORGETTING_TYPES, definitionOf, isEventType } from './catalog.js';
import { requestScope } from './identifiers.js';

/**
 * What a reader of a person's events is shown of what the keys could still open. A seal whose key
 * is destroyed reads as erased (forgetting.ts); these are seals whose key is kept on purpose, for
 * someone else than this reader, and that read as withheld, with the reason.
 */
export type WithheldReason = 'request-evidence';

/** Each reason as the README and the export say it. */
export const WITHHELD_REASONS: Readonly<Record<WithheldReason, string>> = {
  'request-evidence':
    "the evidence of the person's erasure request, once the person is forgotten: kept for the accountability " +
    "period under the request's own key, read through GET /v1/erasure-requests/:id by those who handle requests",
};

interface LoggedEvent {
  type: string;
  data: Record<string, unknown>;
}

/**
 * The scopes a reader of this stream must not open although their keys are kept, with why. A
 * forgotten person's erasure requests: their evidence is sealed under each request's own scope so
 * that it outlives the person (DESIGN.md "Forgetting": kept for the accountability period), but the
 * person's timeline and export went with them, and the evidence names them ("letter signed by…").
 * It is read through its request only. A person not forgotten sees their own request: their data.
 */
export function withheldScopes(stream: readonly LoggedEvent[]): Map<string, WithheldReason> {
  const withheld = new Map<string, WithheldReason>();
  if (!stream.some((event) => (CONTACT_FORGETTING_TYPES as readonly string[]).includes(event.type))) return withheld;
  for (const event of stream) {
    if (isEventType(event.type) && definitionOf(event.type).scope === 'request') {
      withheld.set(requestScope(String(event.data['requestId'])), 'request-evidence');
    }
  }
  return withheld;
}
