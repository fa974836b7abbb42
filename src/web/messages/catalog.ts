import type { EventType } from '../../domain/catalog.js';

/** The labels (and the ledger's refusals) of the detail fields the person corrects. */
export type DetailTexts = Record<'firstName' | 'lastName' | 'email' | 'phone', string>;
export type AddressTexts = Record<'street' | 'line2' | 'postcode' | 'town' | 'country', string>;

/** The languages of the privacy center; the first is the default when the browser asks for none of them. */
export const LANGUAGES = ['fr', 'en'] as const;
export type Language = (typeof LANGUAGES)[number];

/**
 * Every text of the person's pages, once per language (fr.ts, en.ts): each catalog is typed by
 * this one key set, so a text missing in a language is a type error, not a blank on the page.
 * Texts that take values are functions of them.
 */
export interface Messages {
  /** The language's own name, on the switch that leads to it. */
  languageName: string;
  /** Recorded with each consent given on the page: the wording the person was shown (bump it when texts change). */
  wordingVersion: string;
  /** The header's name of the service (until the institution's own name is configured). */
  serviceName: string;
  title: string;
  intro: string;
  linkValidUntil: (date: string) => string;
  consentsHeading: string;
  consentsHint: string;
  legalBasesHeading: string;
  legalBasesHint: string;
  noPurposes: string;
  status: { yes: string; no: string; unknown: string };
  legalBasisStatus: { objected: string; applies: string };
  changedOn: (date: string) => string;
  channel: Record<'email' | 'sms' | 'post' | 'phone' | 'all', string>;
  give: string;
  withdraw: string;
  object: string;
  /** Said to screen readers after a button's text: which purpose it acts on. */
  forPurpose: (purpose: string) => string;
  bannerTitle: string;
  given: (purpose: string) => string;
  withdrawn: (purpose: string) => string;
  errorSummaryTitle: string;
  errors: { chooseAnswer: string; unknownPurpose: string; legalBasisGiven: string; refused: string };
  /** How a consent was given, after its date ("on this page", "with our staff"). */
  givenThrough: Record<'portal' | 'form' | 'operator' | 'import' | 'order' | 'ledger', string>;
  privacyPolicy: string;
  /** The campaign's renewal (`?renew=`): one question, one button. */
  renew: { title: (purpose: string) => string; text: string; button: string };
  details: {
    /** A refusal of no one field. */
    refused: string;
    heading: string;
    correct: string;
    notGiven: string;
    title: string;
    hint: string;
    save: string;
    back: string;
    saved: string;
    unchanged: string;
    fields: DetailTexts;
    addressLegend: string;
    address: AddressTexts;
    countryHint: string;
    /** Said of a field the ledger refused, linked to it from the error summary. */
    invalid: DetailTexts & AddressTexts;
  };
  orders: {
    heading: string;
    none: string;
    placedOn: (date: string) => string;
    order: (orderId: string) => string;
    product: (productId: string) => string;
    anyProduct: string;
    state: Record<'option' | 'confirmed' | 'reserved' | 'sold', string>;
    validUntil: (date: string) => string;
    validFromUntil: (from: string, until: string) => string;
    undated: string;
    purged: string;
  };
  retention: {
    heading: string;
    /** The day the batch would forget them, and how (a customer anonymized, a prospect erased). */
    inactiveAfter: (date: string, outcome: 'anonymized' | 'erased') => string;
    /** Past that day: they go at the batch's next run. */
    inactiveSoon: (outcome: 'anonymized' | 'erased') => string;
    whileInTouch: string;
  };
  download: { heading: string; text: string; json: string; print: string };
  erasure: {
    heading: string;
    intro: string;
    ask: string;
    confirmTitle: string;
    consequences: readonly string[];
    confirm: string;
    cancel: string;
    requested: (due: string) => string;
    status: {
      pending: (requested: string, due: string) => string;
      overdue: (requested: string, due: string) => string;
      refused: (requested: string) => string;
    };
    /** A refusal's reason code in words; another code is said with `otherReason`. */
    reasons: Record<'legal-hold' | 'outstanding-balance' | 'valid-ticket' | 'identity-not-verified', string>;
    otherReason: (code: string) => string;
  };
  print: {
    title: string;
    intro: (date: string) => string;
    button: string;
    consentsHeading: string;
    timelineHeading: string;
    when: string;
    what: string;
    recorded: string;
    erased: string;
    withheld: string;
  };
  /** Each event of the catalog in words, on the printable page. */
  eventNames: Record<EventType, string>;
  notice: {
    notFoundTitle: string;
    notFound: string;
    goneTitle: string;
    gone: string;
    expired: string;
    formExpiredTitle: string;
    formExpired: string;
    /** A form the server could not read (too long, too many fields, another encoding): nothing recorded. */
    unreadableTitle: string;
    unreadable: string;
    tooManyTitle: string;
    tooMany: string;
    failedTitle: string;
    failed: string;
  };
}

/**
 * The language of a page: `?lang=` when it names one (the switch), else the first of
 * Accept-Language's languages, by quality, that the center speaks, else the default.
 */
export function chooseLanguage(asked: unknown, acceptLanguage: string | undefined): Language {
  if (isLanguage(asked)) return asked;
  const ranked = (acceptLanguage ?? '')
    .split(',')
    .map((part, index) => {
      const [tag = '', ...params] = part.trim().split(';');
      const q = params.map((p) => /^\s*q=([\d.]+)\s*$/.exec(p)?.[1]).find((v) => v !== undefined);
      return { language: tag.trim().toLowerCase().split('-')[0] ?? '', q: q === undefined ? 1 : Number(q), index };
    })
    .filter(({ q }) => q > 0)
    .sort((a, b) => b.q - a.q || a.index - b.index);
  return ranked.map(({ language }) => language).find(isLanguage) ?? LANGUAGES[0];
}

export const isLanguage = (value: unknown): value is Language => LANGUAGES.includes(value as Language);
