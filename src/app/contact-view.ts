import { foldContactView, type ContactView, type ViewEvent } from '../domain/contact-view.js';
import { contactTimeline } from './contact-timeline.js';
import type { LedgerContext } from './ledger-context.js';

/** The personal view of a contact, folded on demand from its stream, seals opened in memory. */
export async function contactView(context: LedgerContext, contactId: string): Promise<ContactView> {
  return foldContactView(contactId, (await contactTimeline(context, contactId)) as ViewEvent[]);
}
