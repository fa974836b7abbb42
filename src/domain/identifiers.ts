/**
 * Identifiers appear in stream names, key scopes and read models, so they must never be
 * personal data (DESIGN.md "Events"): an id that looks like an e-mail address or a phone number
 * is refused. Customer numbers such as `C-1001` or `100045` pass.
 */
const OPAQUE_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
const PHONE_SEPARATORS = /[ .():-]/g;

export function looksLikePhoneNumber(id: string): boolean {
  const digits = id.replace(PHONE_SEPARATORS, '');
  // International (+33..., 0033...) or national trunk-prefixed (06...) numbers of 8 to 15 digits,
  // and international numbers written without their + (33612345678: 11 to 15 digits, E.164's
  // length), which is also why an all-digit id of 11 digits or more is refused.
  return /^(\+|0)\d{7,14}$/.test(digits) || /^[1-9]\d{10,14}$/.test(digits);
}

/** An e-mail address anywhere in a text (mailto: links and quoted addresses included). */
export const containsEmailAddress = (text: string): boolean =>
  /[^\s@<>"'(),;:]+@[^\s@<>"'(),;:]+\.[a-z]{2,}/i.test(text);

/** Whether a value of a clear (unsealed) field holds what looks like an e-mail address or a phone number. */
export const looksPersonal = (text: string): boolean =>
  containsEmailAddress(text) || looksLikePhoneNumber(text) || INTERNATIONAL_NUMBER_IN_TEXT.test(text);

/**
 * An international number (+33 6 12…, 0033 6 12…) standing as a word of a text: between spaces or
 * at an end, so that a group of digits inside an id (a UUID's -0047-4562-) is not one.
 */
const INTERNATIONAL_NUMBER_IN_TEXT = /(^|\s)(\+|00)\d([ .()-]?\d){7,14}(?=$|[\s,;])/;

export function isOpaqueId(id: string): boolean {
  return OPAQUE_ID.test(id) && !looksLikePhoneNumber(id);
}

export const CONTACT_STREAM_PREFIX = 'contact-';
export const contactStream = (contactId: string) => `${CONTACT_STREAM_PREFIX}${contactId}`;
export const contactIdOfStream = (stream: string): string | null =>
  stream.startsWith(CONTACT_STREAM_PREFIX) ? stream.slice(CONTACT_STREAM_PREFIX.length) : null;
export const contactScope = (contactId: string) => `contact:${contactId}`;
export const orderScope = (orderId: string) => `order:${orderId}`;
/**
 * A ticket's scope: the beneficiary, answers and buyer IP of its sale, purged on their own when the
 * ticket ends (reference: ticketing-gdpr-features-v2.en.txt, beneficiary data of *tickets* whose end
 * of validity is older than the cutoff). A sale naming no ticket keeps its order's scope, as sales
 * sealed before tickets had their own. An opaque id holds no `/`: no ticket scope is an order's.
 */
export const ticketScope = (orderId: string, ticketId: string | undefined) =>
  ticketId === undefined ? orderScope(orderId) : `${orderScope(orderId)}/${ticketId}`;
/** An erasure request's own scope: its evidence outlives the person's forgetting (accountability). */
export const requestScope = (requestId: string) => `request:${requestId}`;
