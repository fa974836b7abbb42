import { foldContactView, type ContactView, type ViewEvent } from '../domain/contact-view.js';
import { contactStream } from '../domain/identifiers.js';
import type { StoredEvent } from '../store/event-store.js';
import { openStream } from './contact-timeline.js';
import type { LedgerContext } from './ledger-context.js';

/** The personal view of a contact, folded on demand from its stream, seals opened in memory. */
export async function contactView(context: LedgerContext, contactId: string): Promise<ContactView> {
  return viewOfStream(context, contactId, await context.store.readStream(contactStream(contactId)));
}

/** The personal view folded from a stream already read (a command's state), its seals opened as openStream does. */
export async function viewOfStream(
  context: Pick<LedgerContext, 'keys'>,
  contactId: string,
  stored: readonly StoredEvent[],
): Promise<ContactView> {
  return foldContactView(contactId, (await openStream(context, contactId, stored)) as ViewEvent[]);
}
