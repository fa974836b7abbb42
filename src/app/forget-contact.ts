import { decideForgetting, type ForgetCommand } from '../domain/forgetting.js';
import { contactStream } from '../domain/identifiers.js';
import { inactivityFactsFromLog } from '../domain/inactive-contacts.js';
import type { StoredEvent } from '../store/event-store.js';
import { viewOfStream } from './contact-view.js';
import { handleCommand, retryOnConflict } from './handle-command.js';
import { loggedFacts } from './logged-facts.js';
import type { LedgerContext } from './ledger-context.js';

export interface ForgetResult {
  contactId: string;
  /** The forgetting event: the one appended now, or the earlier one when already forgotten. */
  forgettingEvent: Pick<StoredEvent, 'id' | 'type' | 'stream' | 'organizationId' | 'occurredAt' | 'data'>;
  alreadyForgotten: boolean;
}

/**
 * Forgets a contact, as `ledger forget` and an erasure request's execution do: the one decision
 * (decideForgetting: a customer anonymized, a prospect erased), appended at the revision it was
 * taken on, decided again from a fresh read when another writer appended in between. The keys
 * are destroyed by the shredder, a reaction to forgetting events (idempotent: forgetting a
 * forgotten contact names the earlier event, so its reaction can be run again).
 */
export async function forgetContact(
  context: LedgerContext,
  contactId: string,
  command: ForgetCommand,
): Promise<ForgetResult> {
  const stream = contactStream(contactId);
  const { result: earlier, appended } = await retryOnConflict(async () => {
    // The sales naming the contact as cultural contact make it a customer: read with each try.
    const mentions = loggedFacts(await context.store.readMentions(contactId));
    return handleCommand(context, stream, {
      state: async (stored) => ({
        stored,
        view: await viewOfStream(context, contactId, stored),
        customer: inactivityFactsFromLog(contactId, loggedFacts(stored), mentions).customer,
      }),
      decide: ({ stored, view, customer }, now) => {
        const decision = decideForgetting(view, customer, command, now);
        if (!decision) return { events: [], result: stored.find((event) => event.id === view.forgottenBy?.eventId)! };
        // Forgetting is institution-wide; it is filed under the organisation that registered the contact.
        return { events: [{ ...decision, contactId, organizationId: stored[0]!.organizationId }], result: null };
      },
    });
  });
  if (earlier) return { contactId, forgettingEvent: earlier, alreadyForgotten: true };
  const { id, type, organizationId, occurredAt, data } = appended[0]!;
  return {
    contactId,
    forgettingEvent: { id, type, stream, organizationId, occurredAt, data },
    alreadyForgotten: false,
  };
}
