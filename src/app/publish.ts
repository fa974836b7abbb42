import { definitionOf } from '../domain/catalog.js';
import { ordersUnderRestriction } from '../domain/contact-flags.js';
import { envelopesOf, validateEnvelopes, type ValidEvent } from '../domain/envelope.js';
import { RuleViolation } from '../domain/errors.js';
import {
  guardText,
  REMARK_RECOMMENDATIONS,
  type RemarkRecommendations,
  type TextWarning,
} from '../domain/text-guard.js';
import type { AppendOutcome } from '../store/event-store.js';
import { appendSealed } from './append-sealed.js';
import { checkConsentRules } from './consent-rules.js';
import type { LedgerContext } from './ledger-context.js';
import { restrictedContacts } from './restricted-contacts.js';

/** What the text guard does with special-category or judgemental wording: warn, or refuse the batch. */
export type TextGuardMode = 'warn' | 'reject';

export type PublishWarning = { index: number; message: string } & Partial<
  TextWarning & { pointer: string; code: string }
>;

export interface PublishResult extends AppendOutcome {
  warnings: PublishWarning[];
  /** The reference's recommendations, with every batch holding a note, remark or order remark. */
  reminder?: RemarkRecommendations;
}

/**
 * The recommendations go with every free text, flagged or not (V1 page: the operator sees them on
 * every remark saved): a guard that only speaks when it recognises a word would teach that any
 * other wording is fine.
 */
const reminderFor = (events: readonly ValidEvent[]) =>
  events.some((event) => definitionOf(event.type).freeTextFields.length > 0)
    ? { reminder: REMARK_RECOMMENDATIONS }
    : {};

/** The text guard's findings in the free-text fields (notes, remarks) of a batch. */
function textWarnings(events: readonly ValidEvent[]): PublishWarning[] {
  return events.flatMap((event, index) =>
    definitionOf(event.type).freeTextFields.flatMap((field) => {
      const text = event.data[field];
      if (typeof text !== 'string') return [];
      return guardText(text).map((warning) => ({
        index,
        pointer: `/data/${field}`,
        message: `the ${field} reveals ${warning.category} data or judges the person; see advice`,
        ...warning,
      }));
    }),
  );
}

/** Order activities of a batch to a contact whose processing is restricted (see ordersUnderRestriction). */
async function restrictedOrderWarnings(
  context: Pick<LedgerContext, 'store'>,
  events: readonly ValidEvent[],
): Promise<PublishWarning[]> {
  const indexes = ordersUnderRestriction(await restrictedContacts(context.store), events);
  return indexes.map((index) => ({
    index,
    pointer: '/contactId',
    code: 'processing-restricted',
    message: 'the contact is under a restriction of processing (GDPR art. 18); the event was recorded',
    advice:
      "a restricted person's data may only be stored: check that the person asked for this order, " +
      'or lift the restriction (RestrictionLifted) once its reason is settled',
  }));
}

/**
 * Records what upstream systems say happened: the whole body is validated before anything is
 * appended, then sealed and appended atomically. Facts need no stream state to be accepted (the
 * erasure fence is the key store's) but consents: their purpose must be configured, and a refused
 * legal basis is read from the contact's stream (checkConsentRules). The text guard
 * reads the free text of notes and remarks: its warnings come back with the result, or, in
 * `reject` mode, refuse the batch; the recommendations come back with every note or remark.
 */
export async function publish(
  context: LedgerContext,
  body: unknown,
  options: { allowLedgerTypes?: boolean; textGuard?: TextGuardMode } = {},
): Promise<PublishResult> {
  const { textGuard = 'warn', ...validation } = options;
  const events = validateEnvelopes(envelopesOf(body), { now: context.now(), newId: context.newId, ...validation });
  await checkConsentRules(context, events);
  const guarded = textWarnings(events);
  if (textGuard === 'reject' && guarded.length > 0) {
    throw new RuleViolation(
      `${guarded.length} free text(s) reveal special-category data or judge the person; nothing was appended`,
      'rewrite the note or remark as plain facts about the booking (see advice)',
      { errors: guarded, ...reminderFor(events) },
    );
  }
  // Read before the append: the restriction in force when the order came, not one appended with it.
  const restricted = await restrictedOrderWarnings(context, events);
  const outcome = await appendSealed(context, events);
  const indexOf = new Map(events.map((event, index) => [event.id, index]));
  const firstEvents = outcome.appended
    .filter((appended) => appended.revision === 0)
    .map((appended) => ({ index: indexOf.get(appended.id)!, stream: appended.stream }))
    .filter(({ index }) => events[index]?.type !== 'ContactRegistered')
    .map(({ index, stream }) => ({ index, message: `first event of ${stream} is not ContactRegistered` }));
  // A duplicate appended nothing: only what was appended now is warned about.
  const appended = new Set(outcome.appended.map((event) => event.id));
  const restrictedAppended = restricted.filter(({ index }) => appended.has(events[index]!.id));
  return { ...outcome, warnings: [...firstEvents, ...guarded, ...restrictedAppended], ...reminderFor(events) };
}
