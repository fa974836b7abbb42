import { Type, type Static } from '@sinclair/typebox';
import {
  Address,
  CalendarDate,
  Code,
  Country,
  Email,
  Instant,
  Line,
  OneOf,
  OpaqueId,
  Postcode,
  Text,
  Town,
  Version,
  defineEvent,
  personal,
  type EventDefinition,
} from './schema-kit.js';
import { contactScope, orderScope, requestScope, ticketScope } from './identifiers.js';

/**
 * The event catalog of DESIGN.md ("Events"). Each definition is the single source of the
 * event's TypeScript type, its validator, its personal fields and the key scope that seals them.
 * Unknown fields are refused everywhere (additionalProperties: false): an unexpected field could
 * otherwise carry personal data into the clear part of an event.
 */

export const ROLES = [
  'individual',
  'relay',
  'structure',
  'supplier',
  'guide',
  'exhibitor',
  'producer',
  'partner',
  'contractor',
] as const;
const Role = () => OneOf(ROLES);
const Phone = (options = {}) => Type.String({ pattern: '^\\+?[0-9 ().-]{4,32}$', ...options });
const Gender = (options = {}) => OneOf(['female', 'male', 'other', 'undisclosed'], options);
const IpAddress = (options = {}) => Type.String({ format: 'ip', ...options });
const Reason = Code;

const contactDetails = {
  firstName: Type.Optional(Line(100, personal)),
  lastName: Type.Optional(Line(100, personal)),
  email: Type.Optional(Email(personal)),
  phone: Type.Optional(Phone(personal)),
  birthDate: Type.Optional(CalendarDate(personal)),
  gender: Type.Optional(Gender(personal)),
  address: Type.Optional(Address(personal)),
};

const Product = () =>
  Type.Object(
    {
      kind: OneOf(['dated', 'undated']),
      productId: Type.Optional(OpaqueId()),
      validFrom: Type.Optional(Instant()),
      validUntil: Type.Optional(Instant()),
    },
    { additionalProperties: false },
  );

/** Options, reservations and sales share one payload, sealed under their ticket's key. */
const Answer = () =>
  Type.Object(
    { questionType: OneOf(['address', 'email', 'text']), value: Text(1000) },
    { additionalProperties: false },
  );
const orderActivity = {
  orderId: OpaqueId(),
  ticketId: Type.Optional(OpaqueId()),
  product: Product(),
  culturalContactId: Type.Optional(OpaqueId()),
  beneficiary: Type.Optional(
    Type.Object(
      {
        firstName: Type.Optional(Line(100)),
        lastName: Type.Optional(Line(100)),
        email: Type.Optional(Email()),
        address: Type.Optional(Address()),
      },
      { additionalProperties: false, ...personal },
    ),
  ),
  answers: Type.Optional(Type.Array(Answer(), { maxItems: 50, ...personal })),
  ipAddress: Type.Optional(IpAddress(personal)),
};

function checkProduct(data: { product: Static<ReturnType<typeof Product>> }) {
  const issues: Array<[string, string]> = [];
  const { product } = data;
  if (product.kind === 'dated' && product.validUntil === undefined) {
    issues.push(['/product/validUntil', 'a dated product needs its end of validity (validUntil)']);
  }
  if (product.validFrom && product.validUntil && Date.parse(product.validFrom) > Date.parse(product.validUntil)) {
    issues.push(['/product/validUntil', 'validUntil is before validFrom']);
  }
  return issues;
}
const orderEvent = { scope: 'ticket', check: checkProduct } as const;

/** A purge carries text answers only: address and e-mail answers go with the ticket's key. */
function textAnswersOnly(answers: ReadonlyArray<{ questionType: string }> | undefined): Array<[string, string]> {
  const index = (answers ?? []).findIndex((answer) => answer.questionType !== 'text');
  return index < 0 ? [] : [[`/answers/${index}/questionType`, 'a purge carries text answers only']];
}

const ConsentSource = () => OneOf(['portal', 'form', 'operator', 'import']);
const Purpose = Code;
const runOrRequest = {
  runId: Type.Optional(OpaqueId()),
  requestId: Type.Optional(OpaqueId()),
  operatorId: Type.Optional(OpaqueId()),
};
function exactlyOneOfRunOrRequest(data: { runId?: string; requestId?: string }): Array<[string, string]> {
  return (data.runId === undefined) === (data.requestId === undefined)
    ? [['/runId', 'exactly one of runId (batch) or requestId (request) is required']]
    : [];
}
const ledgerOnly = { origin: 'ledger' } as const;
/** Free text an operator writes: personal (sealed), and read by the text guard. */
const freeText = { ...personal, freeText: true };

export const catalog = {
  // contact
  ContactRegistered: defineEvent(
    'ContactRegistered',
    {
      role: Role(),
      ...contactDetails,
      createdOnBehalfOf: Type.Optional(OpaqueId()),
      legalMentionShown: Type.Optional(Type.Boolean()),
    },
    {
      // A person registered by someone else (a group booking) must be told (GDPR art. 14).
      rules: ({ createdOnBehalfOf, legalMentionShown }) =>
        createdOnBehalfOf === undefined || legalMentionShown === true
          ? []
          : [
              {
                pointer: '/legalMentionShown',
                message: 'a contact created on behalf of another person must be shown the legal mention',
                action: 'show the legal mention to the person, then send legalMentionShown: true',
              },
            ],
    },
  ),
  // A rectification: which system or person made it (the privacy center says `portal`, with the
  // person's IP address sealed), and the fields it changes, at least one.
  ContactDetailsChanged: defineEvent(
    'ContactDetailsChanged',
    {
      role: Type.Optional(Role()),
      ...contactDetails,
      source: Type.Optional(ConsentSource()),
      ipAddress: Type.Optional(IpAddress(personal)),
    },
    {
      check: ({ source: _source, ipAddress: _ip, ...changed }) =>
        Object.keys(changed).length === 0 ? [['', 'at least one field must change']] : [],
    },
  ),
  PhotoRecorded: defineEvent(
    'PhotoRecorded',
    {
      photo: Type.String({ contentEncoding: 'base64', minLength: 4, maxLength: 1_000_000, ...personal }),
      consentObtained: Type.Boolean(),
    },
    {
      check: ({ photo }) =>
        photo.length % 4 === 0 && /^[A-Za-z0-9+/]*={0,2}$/.test(photo) ? [] : [['/photo', 'is not valid base64']],
      rules: ({ consentObtained }) =>
        consentObtained
          ? []
          : [
              {
                pointer: '/consentObtained',
                message: 'a photo needs the consent of the person photographed',
                action: 'ask the person for their consent, then send the photo with consentObtained: true',
              },
            ],
    },
  ),
  NoteAdded: defineEvent('NoteAdded', { noteId: OpaqueId(), text: Text(4000, freeText) }),
  RemarkSet: defineEvent('RemarkSet', { text: Text(4000, freeText) }),
  OrderRemarkSet: defineEvent(
    'OrderRemarkSet',
    { orderId: OpaqueId(), text: Text(4000, freeText) },
    { scope: 'order' },
  ),
  PolicyAccepted: defineEvent(
    'PolicyAccepted',
    {
      kind: OneOf(['privacy', 'terms']),
      url: Type.Optional(Type.String({ format: 'uri', maxLength: 2000 })),
      version: Type.Optional(Version()),
    },
    {
      rules: ({ url, version }) =>
        url !== undefined && version !== undefined
          ? []
          : [
              {
                pointer: url === undefined ? '/url' : '/version',
                message: 'an acceptance proves nothing without the text that was accepted',
                action: 'send the url and the version of the policy text the person accepted',
              },
            ],
    },
  ),
  CriterionChanged: defineEvent('CriterionChanged', { criterion: Code(), value: Text(500, personal) }),
  BalanceChanged: defineEvent('BalanceChanged', {
    balance: Type.Number(),
    currency: Type.String({ pattern: '^[A-Z]{3}$' }),
  }),
  PaymentAliasSaved: defineEvent(
    'PaymentAliasSaved',
    { alias: Line(200, personal), buyerConsent: Type.Boolean() },
    {
      rules: ({ buyerConsent }) =>
        buyerConsent
          ? []
          : [
              {
                pointer: '/buyerConsent',
                message: 'a payment alias is kept only with the consent of the buyer',
                action: 'ask the buyer whether to keep their card for later payments; save it only on yes',
              },
            ],
    },
  ),
  ProcessingRestricted: defineEvent('ProcessingRestricted', { reason: Reason() }),
  RestrictionLifted: defineEvent('RestrictionLifted', { reason: Reason() }),
  LegalHoldPlaced: defineEvent('LegalHoldPlaced', { reason: Reason() }),
  LegalHoldReleased: defineEvent('LegalHoldReleased', { reason: Reason() }),

  // activity
  OptionTaken: defineEvent('OptionTaken', orderActivity, orderEvent),
  OptionConfirmed: defineEvent('OptionConfirmed', orderActivity, orderEvent),
  ReservationMade: defineEvent('ReservationMade', orderActivity, orderEvent),
  TicketSold: defineEvent('TicketSold', orderActivity, orderEvent),
  PaymentReceived: defineEvent('PaymentReceived', {
    orderId: OpaqueId(),
    amount: Type.Number(),
    currency: Type.Optional(Type.String({ pattern: '^[A-Z]{3}$' })),
  }),
  WaitingListJoined: defineEvent('WaitingListJoined', { productId: OpaqueId() }),
  MarketingLinkClicked: defineEvent('MarketingLinkClicked', {
    campaignId: OpaqueId(),
    channel: OneOf(['email', 'sms']),
  }),
  MarketingOperationJoined: defineEvent('MarketingOperationJoined', { operationId: OpaqueId() }),
  StatusPageVisited: defineEvent('StatusPageVisited', { pageId: Type.Optional(OpaqueId()) }),
  AccountUpdated: defineEvent('AccountUpdated', { accountId: Type.Optional(OpaqueId()) }),

  // consent
  ConsentGiven: defineEvent('ConsentGiven', {
    purpose: Purpose(),
    source: ConsentSource(),
    wordingVersion: Version(),
    preChecked: Type.Literal(false),
    ipAddress: Type.Optional(IpAddress(personal)),
    operatorName: Type.Optional(Line(200, personal)),
    evidenceNote: Type.Optional(Text(2000, personal)),
  }),
  ConsentWithdrawn: defineEvent('ConsentWithdrawn', {
    purpose: Purpose(),
    source: ConsentSource(),
    ipAddress: Type.Optional(IpAddress(personal)),
  }),
  // The last activity it counted from and the expiry in force: an expiry decided on an activity that
  // a later-logged one superseded changes nothing (the job needs no lock on the streams it writes).
  ConsentExpired: defineEvent(
    'ConsentExpired',
    {
      purpose: Purpose(),
      lastActivityAt: Type.Optional(Instant()),
      expiryDays: Type.Optional(Type.Integer({ minimum: 1 })),
    },
    ledgerOnly,
  ),

  // forgetting
  // The evidence is sealed under the request's own key: it survives the forgetting it asks for.
  ErasureRequested: defineEvent(
    'ErasureRequested',
    {
      requestId: OpaqueId(),
      channel: OneOf(['email', 'post', 'portal', 'phone', 'desk']),
      evidence: Type.Optional(Text(4000, personal)),
      // The address a request made on the privacy center came from: evidence, sealed with it.
      ipAddress: Type.Optional(IpAddress(personal)),
    },
    { scope: 'request' },
  ),
  ErasureRefused: defineEvent('ErasureRefused', { requestId: OpaqueId(), reason: Reason() }, ledgerOnly),
  // A downstream system's word that it erased its copy after a forgetting (issue 27): recorded in
  // the forgotten contact's stream, ids only (the subscriber's name, the forgetting event's id, the
  // request it closed): nothing personal, so the erasure fence lets it in.
  ErasureConfirmed: defineEvent(
    'ErasureConfirmed',
    {
      subscriber: Code(),
      eventId: Type.String({ format: 'uuid', description: 'the forgetting event it acted on' }),
      requestId: Type.Optional(
        OpaqueId({
          description: 'the erasure request the forgetting executed, if any (one made by a batch run has none)',
        }),
      ),
      keyId: Type.Optional(
        OpaqueId({ description: "the API key that acknowledged: the subscriber's own, or an admin's acting for it" }),
      ),
    },
    ledgerOnly,
  ),
  ContactAnonymized: defineEvent(
    'ContactAnonymized',
    {
      reason: OneOf(['inactivity', 'request']),
      ...runOrRequest,
      legalBasis: Type.Optional(Code()),
      retained: Type.Object(
        { country: Type.Optional(Country()), town: Type.Optional(Town()), postcode: Type.Optional(Postcode()) },
        { additionalProperties: false },
      ),
    },
    { ...ledgerOnly, check: exactlyOneOfRunOrRequest },
  ),
  ContactErased: defineEvent(
    'ContactErased',
    {
      reason: OneOf(['inactivity', 'request']),
      ...runOrRequest,
      legalBasis: Type.Optional(Code()),
    },
    { ...ledgerOnly, check: exactlyOneOfRunOrRequest },
  ),
  // One ticket's purge (reference: ticketing-gdpr-features-v2.en.txt, "Removing a prospect /
  // anonymizing a contact"): its key goes, the beneficiary's country stays in clear, and its text
  // answers, which the page keeps, are carried over sealed under the buyer's key (they go when the
  // buyer is forgotten, never with a ticket). `orderEnded`: every ticket of the order is purged now,
  // so the order's own key goes too. One written before tickets were purged one by one has neither
  // `ticketId` nor `orderEnded`: it purged the whole order.
  OrderDataPurged: defineEvent(
    'OrderDataPurged',
    {
      orderId: OpaqueId(),
      ticketId: Type.Optional(OpaqueId()),
      runId: OpaqueId(),
      retained: Type.Object({ beneficiaryCountry: Type.Optional(Country()) }, { additionalProperties: false }),
      orderEnded: Type.Optional(Type.Boolean()),
      answers: Type.Optional(Type.Array(Answer(), { maxItems: 50, ...personal })),
    },
    { ...ledgerOnly, check: ({ answers }) => textAnswersOnly(answers) },
  ),
} satisfies Record<string, EventDefinition>;

export type EventType = keyof typeof catalog;
export const EVENT_TYPES = Object.keys(catalog) as EventType[];

/** Plain typed domain events, as rules see them: `{ type, data }`. */
export type DomainEvent = {
  [K in EventType]: { type: K; data: Static<(typeof catalog)[K]['schema']> };
}[EventType];
export type EventData<K extends EventType> = Static<(typeof catalog)[K]['schema']>;

export function isEventType(type: string): type is EventType {
  return Object.hasOwn(catalog, type);
}
export function definitionOf(type: EventType): EventDefinition {
  return catalog[type] as EventDefinition;
}

/** The scope whose key seals an event's personal fields, by the catalog's declaration. */
export function keyScopeOf(type: EventType, contactId: string, data: Record<string, unknown>): string {
  switch (definitionOf(type).scope) {
    case 'order':
      return orderScope(String(data['orderId']));
    case 'ticket':
      return ticketScope(String(data['orderId']), typeof data['ticketId'] === 'string' ? data['ticketId'] : undefined);
    case 'request':
      return requestScope(String(data['requestId']));
    case 'contact':
      return contactScope(contactId);
  }
}

/** Order activities, which may name a cultural contact (`culturalContactId`) besides the buyer. */
export const CULTURAL_CONTACT_TYPES = [
  'OptionTaken',
  'OptionConfirmed',
  'ReservationMade',
  'TicketSold',
] as const satisfies readonly EventType[];

/** Types that restrict a contact's processing (GDPR art. 18) or lift the restriction. */
export const RESTRICTION_TYPES = ['ProcessingRestricted', 'RestrictionLifted'] as const satisfies readonly EventType[];

/** Types that forget a contact: its stream accepts no personal data after them (the erasure fence). */
export const CONTACT_FORGETTING_TYPES = ['ContactAnonymized', 'ContactErased'] as const satisfies readonly EventType[];

/** Types whose append forgets a key scope (crypto-shredding follows the event). */
export const FORGETTING_TYPES = [
  'ContactAnonymized',
  'ContactErased',
  'OrderDataPurged',
] as const satisfies readonly EventType[];
