import { READ_MODELS } from '../../projections/runner.js';
import { ReadModelsNotReady } from '../../domain/errors.js';
import { Type, type TSchema } from '@sinclair/typebox';
import { catalog } from '../../domain/catalog.js';
import { asStored, Email, Instant, OneOf } from '../../domain/schema-kit.js';
import { guardText, REMARK_RECOMMENDATIONS } from '../../domain/text-guard.js';
import { contactView } from '../../app/contact-view.js';
import { contactTimeline } from '../../app/contact-timeline.js';
import { exportContact } from '../../app/export-contact.js';
import { withForgettingsSince } from '../../app/forgotten-since.js';
import { issueConsentLink, issuePrivacyLink } from '../../app/consent-links.js';
import { ConsentLinkRequest } from '../request-bodies.js';
import { Nullable, Obj, route } from '../route.js';
import { ContactIdParams, OpenedEvent, RemarkRecommendations, TextWarning } from './shared-schemas.js';

const registered = catalog.ContactRegistered.schema.properties as Record<string, TSchema>;
const DETAIL_FIELDS = ['firstName', 'lastName', 'email', 'phone', 'birthDate', 'gender', 'address'] as const;
const At = Instant;

const ConsentEvidence = Obj({
  eventId: Type.String(),
  type: Type.String(),
  at: At(),
  source: Type.String({
    description: 'portal, form, operator, import; order: a new order; ledger: expiry, forgetting',
  }),
  wordingVersion: Type.Optional(Type.String()),
  ipAddress: Type.Optional(Type.String()),
  operatorName: Type.Optional(Type.String()),
  note: Type.Optional(Type.String()),
});

/** The contact view of domain/contact-view.ts, with the read model's recency and customer flag. */
export const ContactViewSchema = Obj(
  {
    role: Nullable(Type.String()),
    status: OneOf(['active', 'anonymized', 'erased']),
    customer: Type.Boolean(),
    balance: Nullable(Obj({ amount: Type.Number(), currency: Type.String() })),
    restricted: Type.Boolean(),
    legalHold: Type.Boolean(),
    contactId: Type.String(),
    registeredAt: Nullable(At()),
    details: Obj(
      Object.fromEntries(DETAIL_FIELDS.map((field) => [field, Type.Optional(asStored(registered[field]!))])),
    ),
    retained: Nullable(catalog.ContactAnonymized.schema.properties.retained),
    forgottenBy: Nullable(Obj({ eventId: Type.String(), type: Type.String(), reason: Type.String(), at: At() })),
    erasedFields: Type.Array(Type.String()),
    organizations: Type.Array(Type.String()),
    notes: Type.Array(Obj({ noteId: Type.String(), text: Nullable(Type.String()), at: At() })),
    remark: Nullable(Type.String()),
    orderRemarks: Type.Record(Type.String(), Nullable(Type.String())),
    photoRecordedAt: Nullable(At()),
    criteria: Type.Record(Type.String(), Nullable(Type.String())),
    policies: Type.Array(Obj({ kind: Type.String(), version: Type.String(), url: Type.String(), at: At() })),
    paymentAliases: Type.Array(Nullable(Type.String())),
    consents: Type.Record(
      Type.String(),
      Obj({
        status: OneOf(['yes', 'no', 'unknown']),
        changedAt: At(),
        lastActivityAt: At(),
        expiresAt: Nullable(At()),
        evidence: Nullable(ConsentEvidence),
      }),
    ),
    orders: Type.Record(Type.String(), Obj({ lastActivity: At(), latestValidUntil: Nullable(At()) })),
    erasureRequests: Type.Array(
      Obj({ requestId: Type.String(), channel: Type.String(), at: At(), refused: Nullable(Type.String()) }),
    ),
    eventCount: Type.Integer({ minimum: 0 }),
    lastEventAt: Nullable(At()),
    recency: Nullable(
      Obj(
        { date: At(), eventId: Type.String(), basis: OneOf(['activity', 'registration']) },
        {
          description: 'GDPR recency: the last activity (or the registration) that counts, from the read model',
        },
      ),
    ),
  },
  { title: 'ContactView' },
);

const Timeline = Obj({ contactId: Type.String(), events: Type.Array(OpenedEvent) }, { title: 'ContactTimeline' });

const ContactExport = Obj(
  {
    notice: Type.String(),
    exportedAt: At(),
    contact: ContactViewSchema,
    consentEvidence: Type.Array(
      Obj({
        id: Type.String(),
        type: Type.String(),
        occurredAt: At(),
        organizationId: Type.String(),
        data: Type.Record(Type.String(), Type.Unknown()),
        erased: Type.Array(Type.String()),
      }),
    ),
    timeline: Type.Array(OpenedEvent),
    withheld: Obj({ 'request-evidence': Type.String(), 'another-person': Type.String() }),
  },
  { title: 'ContactExport' },
);

const TextGuardRequest = Type.Object(
  { text: Type.String({ minLength: 1, maxLength: 10_000 }) },
  { additionalProperties: false },
);
const TextGuardAnswer = Obj(
  { warnings: Type.Array(Obj(TextWarning)), reminder: RemarkRecommendations },
  { title: 'TextGuardAnswer' },
);

const personalRoute = { access: 'operator', params: ContactIdParams, problems: [404] } as const;
const NO_STORE = 'no-store';

export const contactRoutes = [
  // Look-up by e-mail through the keyed blind index: the address is hashed here and goes no further.
  route({
    method: 'get',
    path: '/v1/contacts',
    operationId: 'findContactsByEmail',
    summary: 'contacts by e-mail, through the keyed blind index',
    access: 'operator',
    query: Type.Object({ email: Email({ description: 'one e-mail address (surrounding spaces ignored)' }) }),
    responses: {
      200: {
        description: 'the contacts with that address (none forgotten)',
        schema: Obj({ contactIds: Type.Array(Type.String()) }, { title: 'ContactLookup' }),
      },
    },
    async handle({ query, res }, { ledger }) {
      // Hashes under another master key find nobody: until the rebuild after a rotation swaps in, say so.
      if (await ledger.readModels.keyedByAnother(READ_MODELS)) {
        throw new ReadModelsNotReady(
          'the e-mail index is being rebuilt after a rotation of the master key: retry after Retry-After',
        );
      }
      const hash = ledger.blindIndex.email(query.email);
      const { result, forgotten } = await withForgettingsSince(ledger, () =>
        ledger.readModels.contactsByEmailHash(hash),
      );
      res.set('Cache-Control', NO_STORE).json({ contactIds: result.filter((id) => !forgotten.has(id)) });
    },
  }),
  route({
    ...personalRoute,
    method: 'get',
    path: '/v1/contacts/:contactId',
    operationId: 'getContact',
    summary: 'the personal view, folded from the stream',
    responses: { 200: { description: 'the view, seals opened', schema: ContactViewSchema } },
    async handle({ params: { contactId }, res }, { ledger }) {
      const view = await contactView(ledger, contactId);
      // Recency needs other streams (the cultural contact of someone else's sale): the read model.
      const model = await ledger.readModels.contact(contactId);
      res
        .set('Cache-Control', NO_STORE)
        .json({ ...view, recency: model?.recency ?? null, customer: model?.customer ?? false });
    },
  }),
  route({
    ...personalRoute,
    method: 'get',
    path: '/v1/contacts/:contactId/events',
    operationId: 'getContactTimeline',
    summary: 'the decrypted timeline',
    responses: { 200: { description: 'every event of the contact, in order', schema: Timeline } },
    async handle({ params: { contactId }, res }, { ledger }) {
      const events = await contactTimeline(ledger, contactId);
      res.set('Cache-Control', NO_STORE).json({ contactId, events });
    },
  }),
  route({
    ...personalRoute,
    method: 'get',
    path: '/v1/contacts/:contactId/export',
    operationId: 'exportContact',
    summary: 'right of access and portability: everything held, with the notice',
    responses: {
      200: {
        description: 'the export, as an attachment (contact-export.json), with X-Privacy-Notice',
        schema: ContactExport,
        headers: {
          'X-Privacy-Notice': { description: 'what the operator must keep in mind', schema: Type.String() },
          'Content-Disposition': { description: 'attachment; filename="contact-export.json"', schema: Type.String() },
        },
      },
    },
    async handle({ params: { contactId }, res }, { ledger }) {
      const exported = await exportContact(ledger, contactId);
      res
        .set('Cache-Control', NO_STORE)
        .set('X-Privacy-Notice', 'personal data of one person: verify identity, send securely, keep no copy')
        .set('Content-Disposition', `attachment; filename="contact-export.json"`)
        .json(exported);
    },
  }),
  route({
    method: 'post',
    path: '/v1/contacts/:contactId/consent-link',
    operationId: 'issueConsentLink',
    summary: "a signed, expiring self-service link to the person's consents: 201 {token, path, expiresAt}",
    access: 'operator',
    params: ContactIdParams,
    body: { schema: ConsentLinkRequest, limit: 1024, what: 'link request', component: 'ConsentLinkRequest' },
    responses: {
      201: {
        description: 'the link',
        schema: Obj(
          { token: Type.String({ description: 'cl1.…' }), path: Type.String(), expiresAt: At() },
          { title: 'ConsentLink' },
        ),
      },
    },
    problems: [404, 410],
    async handle({ params: { contactId }, body, res }, { ledger }) {
      res
        .status(201)
        .set('Cache-Control', NO_STORE)
        .json(await issueConsentLink(ledger, contactId, body.days));
    },
  }),
  route({
    method: 'post',
    path: '/v1/contacts/:contactId/privacy-link',
    operationId: 'issuePrivacyLink',
    summary:
      "a signed, expiring link to the person's privacy center, whole (from LEDGER_PUBLIC_URL), for an e-mail: " +
      '201 {url, token, expiresAt}',
    access: 'operator',
    params: ContactIdParams,
    body: { schema: ConsentLinkRequest, limit: 1024, what: 'link request', component: 'ConsentLinkRequest' },
    responses: {
      201: {
        description: 'the link',
        schema: Obj(
          {
            url: Type.String({ description: 'LEDGER_PUBLIC_URL/privacy/<token>' }),
            token: Type.String({ description: 'cl1.…' }),
            expiresAt: At(),
          },
          { title: 'PrivacyLink' },
        ),
      },
    },
    problems: [404, 410],
    async handle({ params: { contactId }, body, res }, { ledger, publicUrl }) {
      res
        .status(201)
        .set('Cache-Control', NO_STORE)
        .json(await issuePrivacyLink(ledger, contactId, publicUrl, body.days));
    },
  }),
  // The guard an operator's screen calls while a note is typed: nothing is stored, nothing logged.
  route({
    method: 'post',
    path: '/v1/text-guard',
    operationId: 'guardText',
    summary: 'special-category or judgemental wording in a text',
    access: 'operator',
    body: { schema: TextGuardRequest, limit: 64 * 1024, what: 'text-guard request', component: 'TextGuardRequest' },
    responses: { 200: { description: 'the warnings, and the recommendations', schema: TextGuardAnswer } },
    handle({ body, res }) {
      res.set('Cache-Control', NO_STORE).json({ warnings: guardText(body.text), reminder: REMARK_RECOMMENDATIONS });
    },
  }),
];
