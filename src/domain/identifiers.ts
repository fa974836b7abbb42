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

/**
 * Whether a value of a clear (unsealed) field holds what looks like an e-mail address or a phone
 * number, as written or percent-decoded (a url's `%40`, `%2B`): the one check of every clear field,
 * codes, reasons, versions, urls and ids alike.
 */
export const looksPersonal = (text: string): boolean => [text, percentDecoded(text)].some(holdsPersonal);

const holdsPersonal = (text: string): boolean =>
  containsEmailAddress(text) ||
  looksLikePhoneNumber(text) ||
  INTERNATIONAL_NUMBER_IN_TEXT.test(text) ||
  PHONE_URI.test(text);

/**
 * An international number standing as a word of a text (+33 6 12…, 0033 6 12…: between spaces or
 * at an end), or written with its + after any other sign (a url's `?to=+336…`): a group of digits
 * inside an id (a UUID's -0047-4562-, an order O-0012345678) is not one.
 */
const INTERNATIONAL_NUMBER_IN_TEXT = /(^|\s)(\+|00)\d([ .()-]?\d){7,14}(?=$|[\s,;])|(^|\W)\+\d([ .()-]?\d){7,14}(?!\d)/;

/** A telephone link (RFC 3966 `tel:`, and `sms:`, `callto:`) with a number. */
const PHONE_URI = /(^|[^a-z])(tel|sms|callto):\s*(\+|\d)/i;

function percentDecoded(text: string): string {
  if (!text.includes('%')) return text;
  try {
    return decodeURIComponent(text);
  } catch {
    return text; // not valid percent-encoding: checked as written
  }
}

/** Pointers of the values of `data`'s fields not listed as personal that look personal (see looksPersonal). */
export function clearValuesThatLookPersonal(
  data: Record<string, unknown>,
  personalFields: readonly string[],
  prefix = '',
): string[] {
  const found: string[] = [];
  const visit = (value: unknown, pointer: string) => {
    if (typeof value === 'string') {
      if (looksPersonal(value)) found.push(pointer);
    } else if (Array.isArray(value)) value.forEach((item, i) => visit(item, `${pointer}/${i}`));
    else if (value !== null && typeof value === 'object') {
      for (const [key, item] of Object.entries(value)) visit(item, `${pointer}/${key}`);
    }
  };
  for (const [field, value] of Object.entries(data))
    if (!personalFields.includes(field)) visit(value, `${prefix}/${field}`);
  return found;
}

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
