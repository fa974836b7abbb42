import { foldContactView, type ContactView, type ViewEvent } from '../domain/contact-view.js';
import { contactStream } from '../domain/identifiers.js';
import type { PurposeTimeline } from '../domain/purposes.js';
import type { StoredEvent } from '../store/event-store.js';
import { openStream } from './contact-timeline.js';
import { readPurposeTimeline } from './purposes.js';
import type { LedgerContext } from './ledger-context.js';

/** The personal view of a contact, folded on demand from its stream, seals opened in memory; consents as configured. */
export async function contactView(context: LedgerContext, contactId: string): Promise<ContactView> {
  const [stored, purposes] = await Promise.all([
    context.store.readStream(contactStream(contactId)),
    readPurposeTimeline(context.store),
  ]);
  return viewOfStream(context, contactId, stored, purposes);
}

/**
 * The personal view folded from a stream already read (a command's state), its seals opened as
 * openStream does. Without `purposes`, consents are folded with no purpose configured: enough for
 * the commands that decide on details, orders and flags (forgetting withdraws every consent anyway).
 */
export async function viewOfStream(
  context: Pick<LedgerContext, 'keys'>,
  contactId: string,
  stored: readonly StoredEvent[],
  purposes?: PurposeTimeline,
): Promise<ContactView> {
  return foldContactView(contactId, (await openStream(context, contactId, stored)) as ViewEvent[], purposes);
}
