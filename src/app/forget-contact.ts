import { decideAnonymization, type ForgetCommand } from '../domain/forgetting.js';
import { contactStream } from '../domain/identifiers.js';
import type { StoredEvent } from '../store/event-store.js';
import { viewOfStream } from './contact-view.js';
import { handleCommand } from './handle-command.js';
import type { LedgerContext } from './ledger-context.js';

export interface ForgetResult {
  contactId: string;
  /** The forgetting event: the one appended now, or the earlier one when already forgotten. */
  forgettingEvent: Pick<StoredEvent, 'id' | 'type' | 'stream' | 'data'>;
  alreadyForgotten: boolean;
}

/**
 * Anonymizes a contact: appends ContactAnonymized at the revision the decision was taken on. The
 * keys are destroyed by the shredder, a reaction to forgetting events (idempotent: forgetting a
 * forgotten contact names the earlier event, so its reaction can be run again).
 */
export async function forgetContact(
  context: LedgerContext,
  contactId: string,
  command: ForgetCommand,
): Promise<ForgetResult> {
  const stream = contactStream(contactId);
  const { result: earlier, appended } = await handleCommand(context, stream, {
    state: async (stored) => ({ stored, view: await viewOfStream(context, contactId, stored) }),
    decide: ({ stored, view }, now) => {
      const decision = decideAnonymization(view, command, now);
      if (!decision) return { events: [], result: stored.find((event) => event.id === view.forgottenBy?.eventId)! };
      // Forgetting is institution-wide; it is filed under the organisation that registered the contact.
      return { events: [{ ...decision, contactId, organizationId: stored[0]!.organizationId }], result: null };
    },
  });
  if (earlier) return { contactId, forgettingEvent: earlier, alreadyForgotten: true };
  const { id, type, data } = appended[0]!;
  return { contactId, forgettingEvent: { id, type, stream, data }, alreadyForgotten: false };
}
