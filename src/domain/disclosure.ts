import { CONTACT_FORGETTING_TYPES, CULTURAL_CONTACT_TYPES, definitionOf, isEventType } from './catalog.js';
import { requestScope } from './identifiers.js';

/**
 * What a reader of a person's events is shown of what the keys could still open. A seal whose key
 * is destroyed reads as erased (forgetting.ts); these are seals whose key is kept on purpose, for
 * someone else than this reader, and that read as withheld, with the reason.
 */
export type WithheldReason = 'request-evidence' | 'another-person';

/** Each reason as the README and the export say it. */
export const WITHHELD_REASONS: Readonly<Record<WithheldReason, string>> = {
  'request-evidence':
    "the evidence of the person's erasure request, once the person is forgotten: kept for the accountability " +
    "period under the request's own key, read through GET /v1/erasure-requests/:id by those who handle requests",
  'another-person':
    "a ticket beneficiary's contact details (e-mail, phone, address) and the answers of type e-mail or address: " +
    "another person's data, not the buyer's to receive (GDPR art. 15(4)); the beneficiary may ask for their own",
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

const ORDER_ACTIVITY: ReadonlySet<string> = new Set(CULTURAL_CONTACT_TYPES);
/** What a buyer's export shows of a beneficiary: who the ticket was for, by name; anything else is theirs. */
const BENEFICIARY_SHOWN: ReadonlySet<string> = new Set(['firstName', 'lastName']);
/** Answers that hold a way to reach someone (the V2 page purges them with the beneficiary's data). */
const CONTACT_ANSWERS: ReadonlySet<string> = new Set(['address', 'email']);

/**
 * An order activity's data as the buyer receives it in their export (right of access), or null
 * when it holds nothing of anyone else. The beneficiary is named (firstName, lastName) but every
 * other field of theirs is withheld, whatever the catalog adds later: their e-mail, phone and
 * address are another person's data (GDPR art. 15(4)), whoever the beneficiary is (the buyer's own
 * details are in their profile). Answers of type e-mail or address reach the beneficiary too: their
 * value is withheld, their type kept, so the answers keep their places; text answers stay, as the
 * V2 page keeps them (the buyer wrote them, about their order). The operators' timeline shows all.
 */
export function forTheBuyer(event: LoggedEvent): { data: Record<string, unknown>; withheld: string[] } | null {
  if (!ORDER_ACTIVITY.has(event.type)) return null;
  const withheld: string[] = [];
  const data = { ...event.data };
  const beneficiary = event.data['beneficiary'] as Record<string, unknown> | undefined;
  if (beneficiary) {
    const named = Object.entries(beneficiary).filter(([field]) => BENEFICIARY_SHOWN.has(field));
    for (const field of Object.keys(beneficiary))
      if (!BENEFICIARY_SHOWN.has(field)) withheld.push(`beneficiary/${field}`);
    data['beneficiary'] = Object.fromEntries(named);
  }
  const answers = event.data['answers'] as Array<{ questionType: string; value?: string }> | undefined;
  if (answers) {
    data['answers'] = answers.map((answer, i) => {
      if (!CONTACT_ANSWERS.has(answer.questionType)) return answer;
      withheld.push(`answers/${i}/value`);
      return { questionType: answer.questionType };
    });
  }
  return withheld.length > 0 ? { data, withheld } : null;
}
