import type { ContactView } from '../domain/contact-view.js';
import { foldErasureRequests, statusAt, type ErasureStatus } from '../domain/erasure-requests.js';
import { DEFAULT_INACTIVITY_MONTHS, inactiveAfter } from '../domain/inactive-contacts.js';
import { orderHistory, type OrderLine } from '../domain/order-history.js';
import { jobState } from '../domain/schedules.js';
import type { ReadModels } from '../projections/read-models.js';
import { openLink, pageOf, type ConsentPage, type LinkContext } from './consent-links.js';
import { requestErasure } from './erasure-requests.js';
import { exportContact, type ContactExport } from './export-contact.js';
import { retryOnConflict } from './handle-command.js';
import { publish } from './publish.js';
import { readSchedules } from './schedules.js';

/** The privacy center's use cases read the contact read model (recency) as the export does. */
export type PrivacyContext = LinkContext & { readModels: Pick<ReadModels, 'contact'> };

/** The person's latest erasure request as their page follows it. */
export interface ErasureFollowUp {
  requestId: string;
  status: ErasureStatus;
  requestedAt: string;
  dueAt: string;
  /** A refusal's reason code (the page says it in words). */
  refusedBecause: string | null;
}

/** Everything the person's page shows: their consents, details, orders, when they would be forgotten, their request. */
export interface PrivacyPage extends ConsentPage {
  details: ContactView['details'];
  orders: OrderLine[];
  /**
   * When and how the inactive-contact batch would forget them if nothing happens (`passed`: that
   * day is past, they go at its next run); null when it would not.
   */
  inactivity: (NonNullable<ReturnType<typeof inactiveAfter>> & { passed: boolean }) | null;
  erasure: ErasureFollowUp | null;
}

/** The details a person corrects on their page; an absent field is left as it is. */
export type DetailCorrections = Partial<
  Pick<ContactView['details'], 'firstName' | 'lastName' | 'email' | 'phone' | 'address'>
>;

export async function privacyPage(context: PrivacyContext, token: string): Promise<PrivacyPage> {
  const opened = await openLink(context, token);
  const { view, stored, timeline } = opened;
  const [model, schedules] = await Promise.all([
    context.readModels.contact(view.contactId),
    readSchedules(context.store),
  ]);
  // The period of the scheduled batch, else the batch's default: what would forget them.
  const { schedule } = jobState(schedules, 'inactive-contacts');
  const months = schedule?.job === 'inactive-contacts' ? schedule.inactivityMonths : DEFAULT_INACTIVITY_MONTHS;
  const now = context.now();
  const after = inactiveAfter(
    {
      ...view,
      registered: stored.some((event) => event.type === 'ContactRegistered'),
      // Their own flags, but the read model's recency and customer: a sale naming them as
      // cultural contact (another person's stream) moves both, as it does for the batch.
      customer: model?.customer ?? view.customer,
      balance: view.balance?.amount ?? 0,
      recency: model?.recency?.date ?? null,
    },
    months,
  );
  const latest = [...foldErasureRequests(stored).values()].at(-1);
  return {
    ...pageOf(opened),
    details: view.details,
    orders: orderHistory(timeline),
    inactivity: after && { ...after, passed: after.date <= now.toISOString() },
    erasure: latest
      ? {
          requestId: latest.requestId,
          status: statusAt(latest, now),
          requestedAt: latest.requestedAt,
          dueAt: latest.dueAt,
          refusedBecause: latest.status === 'refused' ? (latest.closedBy?.reason ?? null) : null,
        }
      : null,
  };
}

/**
 * A correction made by the person on their page: a ContactDetailsChanged from the portal with
 * their IP address sealed, holding only what differs from what is held (an address is replaced
 * whole, as the view folds it), under the rules of any publish. Whether anything changed.
 */
export async function correctDetailsThroughLink(
  context: PrivacyContext,
  token: string,
  corrections: DetailCorrections,
  ipAddress: string | undefined,
): Promise<boolean> {
  const { view } = await openLink(context, token);
  const changed = Object.fromEntries(
    Object.entries(corrections).filter(
      ([field, value]) => JSON.stringify(value) !== JSON.stringify(view.details[field as keyof DetailCorrections]),
    ),
  );
  if (Object.keys(changed).length === 0) return false;
  await publish(context, {
    type: 'ContactDetailsChanged',
    contactId: view.contactId,
    organizationId: view.organizations[0] ?? 'privacy-center',
    occurredAt: context.now().toISOString(),
    data: { ...changed, source: 'portal', ...(ipAddress !== undefined ? { ipAddress } : {}) },
  });
  return true;
}

/**
 * The person's request to be forgotten, on channel `portal` with their IP address as evidence; one
 * at a time: of two clicks at once, the one whose append comes second is refused (a conflict), then
 * read again and answered the first one's request.
 */
export async function requestErasureThroughLink(context: PrivacyContext, token: string, ipAddress: string | undefined) {
  const { view } = await openLink(context, token);
  return retryOnConflict(() =>
    requestErasure(context, {
      contactId: view.contactId,
      channel: 'portal',
      reusePending: true,
      ...(ipAddress !== undefined ? { ipAddress } : {}),
    }),
  );
}

/** Everything held about the person, as the API's export gives it (right of access and portability). */
export async function exportThroughLink(context: PrivacyContext, token: string): Promise<ContactExport> {
  const { view } = await openLink(context, token);
  return exportContact(context, view.contactId);
}
