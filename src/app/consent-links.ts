import { Type, type Static } from '@sinclair/typebox';
import type { ConsentLinks } from '../crypto/consent-link.js';
import { Instant, Nullable, Obj } from '../domain/schema-kit.js';
import { ConsentLinkGone, Forgotten, UnknownConsentLink } from '../domain/errors.js';
import { contactStream } from '../domain/identifiers.js';
import { foldContactView, type ContactView, type ViewEvent } from '../domain/contact-view.js';
import { openStream } from './contact-timeline.js';
import type { OpenedEvent } from './sealing.js';
import { viewOfStream } from './contact-view.js';
import type { LedgerContext } from './ledger-context.js';
import { publish } from './publish.js';
import { readPurposeTimeline } from './purposes.js';
import { PurposeLabels, type PurposeTimeline } from '../domain/purposes.js';
import { linkAnswerChangesNothing, type LinkAnswer } from '../domain/consent.js';
import { loggedFacts } from './logged-facts.js';
import type { StoredEvent } from '../store/event-store.js';

export type LinkContext = LedgerContext & { consentLinks: ConsentLinks };

/** How long a link works unless said otherwise. */
export const DEFAULT_LINK_DAYS = 30;

/** A new self-service link for a contact that exists and is not forgotten (404 / 410 otherwise). */
export async function issueConsentLink(
  context: LinkContext,
  contactId: string,
  days = DEFAULT_LINK_DAYS,
): Promise<{ token: string; path: string; expiresAt: string }> {
  const view = await viewOfStream(context, contactId, await context.store.readStream(contactStream(contactId)));
  if (view.forgottenBy) throw new Forgotten(`contact:${contactId}`, view.forgottenBy.eventId);
  const expiresAt = new Date(context.now().getTime() + days * 86_400_000);
  const token = context.consentLinks.issue(contactId, expiresAt);
  return { token, path: `/v1/consent-links/${token}`, expiresAt: expiresAt.toISOString() };
}

/** The address of a person's privacy center: the page of the privacy center (src/api/privacy-center.ts). */
export const privacyUrl = (publicUrl: string, token: string) => `${publicUrl}/privacy/${token}`;

/**
 * A new link to the person's privacy center, whole (from the origin people reach the ledger at,
 * LEDGER_PUBLIC_URL), for an upstream system to put in its e-mails: the same signed token as a
 * consent link's, so it expires and dies with the person as one does.
 */
export async function issuePrivacyLink(
  context: LinkContext,
  contactId: string,
  publicUrl: string,
  days = DEFAULT_LINK_DAYS,
): Promise<{ url: string; token: string; expiresAt: string }> {
  const { token, expiresAt } = await issueConsentLink(context, contactId, days);
  return { url: privacyUrl(publicUrl, token), token, expiresAt };
}

/** What the person sees: each purpose as configured now, with their answer; nothing else about them. */
export const ConsentPage = Obj(
  {
    expiresAt: Instant(),
    purposes: Type.Array(
      Obj({
        code: Type.String(),
        kind: Type.String(),
        channel: Type.String(),
        // The purpose's name and description by language (null: none configured; the page shows the code).
        labels: Nullable(PurposeLabels),
        status: Type.String({ description: 'yes, no or unknown' }),
        changedAt: Nullable(Instant()),
        source: Nullable(
          Type.String({ description: 'how it was given: portal, form, operator, import; order; ledger (expiry)' }),
        ),
      }),
    ),
  },
  { title: 'ConsentPage' },
);
export type ConsentPage = Static<typeof ConsentPage>;

/** A valid link's contact: its stream as read and opened, its view, and the purposes' configuration. */
export interface OpenedLink {
  view: ContactView;
  stored: StoredEvent[];
  timeline: OpenedEvent[];
  expiresAt: Date;
  purposes: PurposeTimeline;
}

/** The contact a valid token names: the link dies when it expires or the person is forgotten. */
export async function openLink(context: LinkContext, token: string): Promise<OpenedLink> {
  const opened = context.consentLinks.open(token);
  if (!opened) throw new UnknownConsentLink();
  if (opened.expiresAt.getTime() <= context.now().getTime()) throw new ConsentLinkGone('expired');
  const [stored, purposes] = await Promise.all([
    context.store.readStream(contactStream(opened.contactId)),
    readPurposeTimeline(context.store),
  ]);
  if (stored.length === 0) throw new UnknownConsentLink();
  const timeline = await openStream(context, opened.contactId, stored);
  const view = foldContactView(opened.contactId, timeline as ViewEvent[], purposes);
  if (view.forgottenBy) throw new ConsentLinkGone('forgotten');
  return { view, stored, timeline, expiresAt: opened.expiresAt, purposes };
}

export async function consentPage(context: LinkContext, token: string): Promise<ConsentPage> {
  return pageOf(await openLink(context, token));
}

export function pageOf({ view, expiresAt, purposes: { current } }: OpenedLink): ConsentPage {
  return {
    expiresAt: expiresAt.toISOString(),
    purposes: [...current.values()].map(({ code, kind, channel, labels }) => ({
      code,
      kind,
      channel,
      labels,
      status: view.consents[code]?.status ?? 'unknown',
      changedAt: view.consents[code]?.changedAt ?? null,
      source: view.consents[code]?.evidence?.source ?? null,
    })),
  };
}

/**
 * The person's answer through their link: a ConsentGiven or ConsentWithdrawn from the portal, with
 * the wording they were shown and their IP address (sealed), published through the same rules as
 * any consent (a configured purpose; a refused legal basis is not given again this way). An answer
 * that changes nothing the stream holds appends nothing, and answers the page as it is.
 */
export async function answerThroughLink(
  context: LinkContext,
  token: string,
  answer: LinkAnswer,
  ipAddress: string | undefined,
): Promise<ConsentPage> {
  const opened = await openLink(context, token);
  const { view, stored, purposes } = opened;
  const occurredAt = context.now().toISOString();
  if (linkAnswerChangesNothing(loggedFacts(stored), purposes, answer, occurredAt)) return pageOf(opened);
  const evidence = ipAddress !== undefined ? { ipAddress } : {};
  await publish(context, {
    type: answer.answer === 'yes' ? 'ConsentGiven' : 'ConsentWithdrawn',
    contactId: view.contactId,
    organizationId: view.organizations[0] ?? 'privacy-center',
    occurredAt,
    data:
      answer.answer === 'yes'
        ? {
            purpose: answer.purpose,
            source: 'portal',
            wordingVersion: answer.wordingVersion,
            preChecked: false,
            ...evidence,
          }
        : { purpose: answer.purpose, source: 'portal', ...evidence },
  });
  return consentPage(context, token);
}
