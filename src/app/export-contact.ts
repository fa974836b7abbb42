import { foldContactView, type ContactView, type ViewEvent } from '../domain/contact-view.js';
import { forTheBuyer, WITHHELD_REASONS, type WithheldReason } from '../domain/disclosure.js';
import type { ContactReadModel, ReadModels } from '../projections/read-models.js';
import { contactTimeline } from './contact-timeline.js';
import { readPurposeTimeline } from './purposes.js';
import type { LedgerContext } from './ledger-context.js';
import type { OpenedEvent } from './sealing.js';

/** What the operator must keep in mind when handing an export over (GDPR articles 12, 15 and 20). */
export const EXPORT_NOTICE =
  'This export holds the personal data of one person (right of access and portability, GDPR art. 15 and 20). ' +
  "Check the requester's identity first; send it to that person only, through a secure channel, within one " +
  'month of the request; keep no copy longer than needed; record that the request was answered.';

const CONSENT_TYPES = new Set(['ConsentGiven', 'ConsentWithdrawn', 'ConsentExpired']);

export interface ContactExport {
  notice: string;
  exportedAt: string;
  contact: ContactView & { recency: ContactReadModel['recency']; customer: boolean };
  /** Every consent event, with its evidence (source, wording version, IP, operator, note). */
  consentEvidence: Array<Pick<OpenedEvent, 'id' | 'type' | 'occurredAt' | 'organizationId' | 'data' | 'erased'>>;
  /** Every event of the contact, its seals opened; erased fields listed as erased, withheld ones as withheld. */
  timeline: OpenedEvent[];
  /** What an event may withhold (its `withheld` fields, its `withheldBecause`), and why: said to the reader. */
  withheld: Readonly<Record<WithheldReason, string>>;
}

/**
 * Everything the ledger holds about a person, as readable JSON (right of access and
 * portability). A forgotten contact's export holds nothing personal: its keys are gone, so its
 * sealed fields read back as erased, its erasure requests' evidence (kept under each request's
 * key) as withheld, and only the retained country, town and postcode remain. A buyer's export
 * names their tickets' beneficiaries but withholds their contact details (forTheBuyer).
 */
export async function exportContact(
  context: LedgerContext & { readModels: Pick<ReadModels, 'contact'> },
  contactId: string,
): Promise<ContactExport> {
  const [timeline, purposes] = await Promise.all([
    contactTimeline(context, contactId),
    readPurposeTimeline(context.store),
  ]);
  const view = foldContactView(contactId, timeline as ViewEvent[], purposes);
  // Recency and "customer" need other streams (a cultural contact of someone else's sale): the read model.
  const model = await context.readModels.contact(contactId);
  return {
    notice: EXPORT_NOTICE,
    exportedAt: context.now().toISOString(),
    contact: { ...view, recency: model?.recency ?? null, customer: model?.customer ?? view.customer },
    consentEvidence: timeline
      .filter((event) => CONSENT_TYPES.has(event.type))
      .map(({ id, type, occurredAt, organizationId, data, erased }) => ({
        id,
        type,
        occurredAt,
        organizationId,
        data,
        erased,
      })),
    timeline: timeline.map(withoutOtherPeople),
    withheld: WITHHELD_REASONS,
  };
}

/** An event as its contact receives it: another person's data in it withheld (forTheBuyer). */
function withoutOtherPeople(event: OpenedEvent): OpenedEvent {
  const shown = event.personal === 'open' ? forTheBuyer(event) : null;
  return shown ? { ...event, data: shown.data, withheld: shown.withheld, withheldBecause: 'another-person' } : event;
}
