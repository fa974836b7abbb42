/**
 * The `type` of every problem the API answers: what clients switch on, so it never changes with a
 * title's wording. The values are the ones served before they were written down here (each was then
 * made from its title); a new problem gets a new entry, an entry is never renamed. README "Problems"
 * lists them.
 */
export const PROBLEM_TYPES = {
  invalidInput: 'urn:contact-ledger:problem:invalid-input',
  unauthenticated: 'urn:contact-ledger:problem:unauthenticated',
  forbidden: 'urn:contact-ledger:problem:forbidden',
  unknownContact: 'urn:contact-ledger:problem:unknown-contact',
  unknownErasureRequest: 'urn:contact-ledger:problem:unknown-erasure-request',
  unknownApiKey: 'urn:contact-ledger:problem:unknown-api-key',
  unknownStream: 'urn:contact-ledger:problem:unknown-stream',
  unknownSubscriber: 'urn:contact-ledger:problem:unknown-subscriber',
  unknownEvent: 'urn:contact-ledger:problem:unknown-event',
  unknownConsentLink: 'urn:contact-ledger:problem:unknown-consent-link',
  /** No route at this path: a problem with no meaning beyond its status (RFC 9457 §4.2.1). */
  notFound: 'about:blank',
  concurrencyConflict: 'urn:contact-ledger:problem:concurrency-conflict',
  simulationOutdated: 'urn:contact-ledger:problem:simulation-outdated',
  eventIdAlreadyUsed: 'urn:contact-ledger:problem:event-id-already-used',
  forgotten: 'urn:contact-ledger:problem:forgotten',
  consentLinkGone: 'urn:contact-ledger:problem:consent-link-no-longer-valid',
  payloadTooLarge: 'urn:contact-ledger:problem:payload-too-large',
  unsupportedMediaType: 'urn:contact-ledger:problem:unsupported-media-type',
  misdirectedRequest: 'urn:contact-ledger:problem:misdirected-request',
  ruleViolation: 'urn:contact-ledger:problem:rule-violation',
  tooManyRequests: 'urn:contact-ledger:problem:too-many-requests',
  internalError: 'urn:contact-ledger:problem:internal-error',
  integrityFailure: 'urn:contact-ledger:problem:integrity-failure',
  serviceUnavailable: 'urn:contact-ledger:problem:service-unavailable',
  methodNotAllowed: 'urn:contact-ledger:problem:method-not-allowed',
  readModelsNotReady: 'urn:contact-ledger:problem:read-models-not-ready',
  /** Test mode only (LEDGER_VALIDATE_RESPONSES): an answer that its route's document does not describe. */
  responseNotAsDocumented: 'urn:contact-ledger:problem:response-not-as-documented',
} as const;
export type ProblemType = (typeof PROBLEM_TYPES)[keyof typeof PROBLEM_TYPES];
