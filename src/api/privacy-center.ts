import express, { type ErrorRequestHandler, type Request, type RequestHandler, type Response } from 'express';
import { answerThroughLink } from '../app/consent-links.js';
import {
  correctDetailsThroughLink,
  exportThroughLink,
  privacyPage,
  requestErasureThroughLink,
} from '../app/privacy-center.js';
import {
  ConsentLinkGone,
  Forgotten,
  LedgerError,
  RuleViolation,
  TooManyRequests,
  UnknownConsentLink,
  ValidationError,
} from '../domain/errors.js';
import { cleanText } from '../domain/validation.js';
import { ASSETS_DIR } from '../web/assets.js';
import { chooseLanguage, LANGUAGES, MESSAGES, type Language } from '../web/messages/index.js';
import type { FieldName } from '../web/pages/details-page.js';
import type { Institution } from '../site-config.js';
import type { FrameProps } from '../web/pages/layout.js';
import { anchorOf, type Done } from '../web/pages/privacy-page.js';
import {
  renderDetailsPage,
  renderErasurePage,
  renderNoticePage,
  renderPrintPage,
  renderPrivacyPage,
} from '../web/render.js';
import { CONSENT_LINK_LIMIT, PRIVACY_ADDRESS_LIMIT, rateLimit } from './rate-limit.js';
import type { RouteContext } from './route.js';
import { clientIp } from './routes/consents.js';

/**
 * Headers of every page of the person, reached from a link in an e-mail: no script may run, no
 * other site may frame or post to it, the link (a secret) is sent to no one as a Referer, and no
 * cache keeps a copy of what it shows.
 */
export const PAGE_HEADERS = {
  'Content-Security-Policy':
    "default-src 'none'; style-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store',
  // frame-ancestors' elder, for browsers that predate it (helmet's default is SAMEORIGIN).
  'X-Frame-Options': 'DENY',
} as const;

const PAGE = '/privacy/:token';

/** The detail fields of the correction form; an address part posted empty keeps what is held. */
const NAME_FIELDS = ['firstName', 'lastName', 'email', 'phone'] as const;
const ADDRESS_FIELDS = ['street', 'line2', 'postcode', 'town', 'country'] as const;

/**
 * The privacy center (issue 26): HTML pages for the person, server-rendered (Preact components of
 * src/web), working without JavaScript: each action is a form POST that redirects back (303) to the
 * page, which shows what was recorded. The signed link is the proof, as for the JSON twin of the
 * consents (routes/consents.ts). A router of its own, outside the API document: the pages are no
 * part of the API. The access log names the route pattern (/privacy/:token), never the token.
 */
export function privacyCenter(context: RouteContext): express.Router {
  const router = express.Router();
  const { ledger, log, institution } = context;
  const perLink = rateLimit(CONSENT_LINK_LIMIT, (req) => `privacy ${String(req.params['token'])}`);
  // Every request under /privacy counts, a forged link's 404 too: guessing tokens costs the budget.
  const perAddress = rateLimit(PRIVACY_ADDRESS_LIMIT, (req) => `privacy address ${clientIp(req) ?? 'unknown'}`);
  const form = express.urlencoded({ extended: false, limit: 4096, parameterLimit: 20 });
  /** What every page of a link needs: the token, the language, the frame, and the form token. */
  const frameOf = (req: Request) => {
    const token = String(req.params['token']);
    const language = languageOf(req);
    const other = LANGUAGES.find((l) => l !== language)!;
    const frame: FrameProps = {
      language,
      messages: MESSAGES[language],
      institution,
      switchTo: { language: other, href: `?lang=${other}`, label: MESSAGES[other].languageName },
    };
    return { token, language, frame, formToken: ledger.consentLinks.formToken(token) };
  };
  /** A form is read only when this page made it for this link: anything else changes nothing (403). */
  const checkedForm: RequestHandler = (req, res, next) => {
    if (ledger.consentLinks.checkFormToken(String(req.params['token']), (req.body ?? {})['csrf'])) return next();
    const language = languageOf(req);
    const { notice } = MESSAGES[language];
    sendNotice(
      res,
      403,
      { language, messages: MESSAGES[language], institution },
      notice.formExpiredTitle,
      notice.formExpired,
    );
  };
  const back = (res: Response, token: string, language: Language, query: Record<string, string>) =>
    res.redirect(303, `/privacy/${token}?${new URLSearchParams({ lang: language, ...query })}`);

  router.get('/assets/:file', (req, res, next) => {
    res.sendFile(String(req.params['file']), { root: ASSETS_DIR, dotfiles: 'deny', maxAge: '1h' }, (error) => {
      if (error && !res.headersSent) next();
    });
  });
  router.use('/privacy', pageHeaders, perAddress);

  router.get(PAGE, perLink, async (req, res) => {
    const { token, frame, formToken } = frameOf(req);
    const page = await privacyPage(ledger, token);
    const { done, purpose, renew } = req.query;
    sendHtml(
      res,
      200,
      renderPrivacyPage({ ...frame, token, formToken, page, done: doneOf(done, purpose), renew: stringOf(renew) }),
    );
  });

  router.post(`${PAGE}/consents`, perLink, form, checkedForm, async (req, res) => {
    const { token, language, frame, formToken } = frameOf(req);
    const { messages } = frame;
    const page = await privacyPage(ledger, token);
    const { purpose, answer } = req.body as Record<string, unknown>;
    const shown = page.purposes.find((p) => p.code === purpose);
    const refuse = (status: number, href: string, text: string) =>
      sendHtml(res, status, renderPrivacyPage({ ...frame, token, formToken, page, errors: [{ href, text }] }));
    if (!shown) return refuse(400, '#main', messages.errors.unknownPurpose);
    const anchor = `#${anchorOf(shown.code)}`;
    if (answer !== 'yes' && answer !== 'no') return refuse(400, anchor, messages.errors.chooseAnswer);
    if (answer === 'yes' && shown.kind === 'legalBasis') return refuse(400, anchor, messages.errors.legalBasisGiven);
    try {
      const link = { purpose: shown.code, answer, wordingVersion: messages.wordingVersion } as const;
      await answerThroughLink(ledger, token, link, clientIp(req));
    } catch (error) {
      // A rule of the ledger refused it (409, 422): said on the page, as any error of the form.
      if (error instanceof LedgerError && (error.status === 409 || error.status === 422)) {
        return refuse(error.status, anchor, messages.errors.refused);
      }
      throw error;
    }
    back(res, token, language, { done: answer === 'yes' ? 'given' : 'withdrawn', purpose: shown.code });
  });

  router.get(`${PAGE}/details`, perLink, async (req, res) => {
    const { token, frame, formToken } = frameOf(req);
    const { details } = await privacyPage(ledger, token);
    const values = { ...pick(details, NAME_FIELDS), ...pick(details.address ?? {}, ADDRESS_FIELDS) };
    sendHtml(res, 200, renderDetailsPage({ ...frame, token, formToken, values }));
  });

  router.post(`${PAGE}/details`, perLink, form, checkedForm, async (req, res) => {
    const { token, language, frame, formToken } = frameOf(req);
    const posted = req.body as Record<string, unknown>;
    // Characters the rules refuse are invisible on the page: taken out of what was typed, and out of
    // the parts kept as stored (a value from before a rule would otherwise refuse every correction).
    const oneLine = (value: unknown) => (typeof value === 'string' ? cleanText(value, { oneLine: true }) : '');
    const values = Object.fromEntries(
      [...NAME_FIELDS, ...ADDRESS_FIELDS].map((field) => [field, oneLine(posted[field])]),
    ) as Record<FieldName, string>;
    const { details } = await privacyPage(ledger, token);
    const stored = Object.fromEntries(
      Object.entries(details.address ?? {}).map(([part, value]) => [part, oneLine(value)]),
    );
    const address = { ...filled(stored), ...filled(pick(values, ADDRESS_FIELDS)) };
    if (address.country) address.country = address.country.toUpperCase();
    const corrections = {
      ...filled(pick(values, NAME_FIELDS)),
      ...(Object.keys(address).length > 0 ? { address } : {}),
    };
    try {
      const changed = await correctDetailsThroughLink(ledger, token, corrections, clientIp(req));
      back(res, token, language, { done: changed ? 'details' : 'unchanged' });
    } catch (error) {
      if (!(error instanceof ValidationError || error instanceof RuleViolation)) throw error;
      // The ledger's own rules refused a field: said beside it, in the person's words, nothing appended.
      const invalid = frame.messages.details.invalid;
      const fields = (error instanceof ValidationError ? error.issues : []).map(({ pointer }) =>
        fieldOfPointer(pointer),
      );
      const placed = fields.filter((field) => field !== undefined);
      const fieldErrors = Object.fromEntries(placed.map((field) => [field, invalid[field]]));
      // A refusal of no one field (the whole address, a rule): said of the form.
      const refused = placed.length === 0 || placed.length < fields.length;
      const formError = refused ? frame.messages.details.refused : undefined;
      sendHtml(res, 400, renderDetailsPage({ ...frame, token, formToken, values, fieldErrors, formError }));
    }
  });

  router.get(`${PAGE}/erasure`, perLink, async (req, res) => {
    const { token, language, frame, formToken } = frameOf(req);
    const { erasure } = await privacyPage(ledger, token);
    // A request already under way is followed on the page, not asked again.
    if (erasure && (erasure.status === 'pending' || erasure.status === 'overdue'))
      return back(res, token, language, {});
    sendHtml(res, 200, renderErasurePage({ ...frame, token, formToken }));
  });

  router.post(`${PAGE}/erasure`, perLink, form, checkedForm, async (req, res) => {
    const { token, language } = frameOf(req);
    await requestErasureThroughLink(ledger, token, clientIp(req));
    back(res, token, language, { done: 'erasure' });
  });

  router.get(`${PAGE}/export.json`, perLink, async (req, res) => {
    const exported = await exportThroughLink(ledger, String(req.params['token']));
    const day = exported.exportedAt.slice(0, 10);
    res.set('Content-Disposition', `attachment; filename="personal-data-${day}.json"`).json(exported);
  });

  router.get(`${PAGE}/print`, perLink, async (req, res) => {
    const { token, frame, formToken } = frameOf(req);
    const [page, exported] = await Promise.all([privacyPage(ledger, token), exportThroughLink(ledger, token)]);
    sendHtml(res, 200, renderPrintPage({ ...frame, token, formToken, page, exported }));
  });

  // Any other path under /privacy: the neutral 404, never an echo of what was asked.
  router.all('/privacy/{*rest}', (req, res) => {
    const language = languageOf(req);
    const { notice } = MESSAGES[language];
    sendNotice(
      res,
      404,
      { language, messages: MESSAGES[language], institution },
      notice.notFoundTitle,
      notice.notFound,
    );
  });

  router.use('/privacy', noticeOfError(log, institution));
  return router;
}

const pageHeaders: RequestHandler = (_req, res, next) => {
  res.set(PAGE_HEADERS);
  next();
};

/** The page's language: the switch (`?lang=`, or the form's own), else the browser's Accept-Language. */
function languageOf(req: Request): Language {
  const asked = req.query['lang'] ?? (req.body as Record<string, unknown> | undefined)?.['lang'];
  return chooseLanguage(asked, req.get('accept-language'));
}

const stringOf = (value: unknown) => (typeof value === 'string' ? value : undefined);

/** What the redirect says was done (`?done=`); anything else shows no banner. */
function doneOf(done: unknown, purpose: unknown): Done | undefined {
  if ((done === 'given' || done === 'withdrawn') && typeof purpose === 'string') return { kind: done, purpose };
  if (done === 'details' || done === 'unchanged' || done === 'erasure') return { kind: done };
  return undefined;
}

/** The text fields `keys` of `from` (the rest of it, and any field not a text, left out). */
function pick<K extends string>(from: Partial<Record<K, unknown>>, keys: readonly K[]): Partial<Record<K, string>> {
  const picked: Partial<Record<K, string>> = {};
  for (const key of keys) if (typeof from[key] === 'string') picked[key] = from[key];
  return picked;
}

/** The fields given a value: an empty one keeps what is held. */
const filled = <T extends Record<string, string | undefined>>(values: T): Partial<T> =>
  Object.fromEntries(Object.entries(values).filter(([, value]) => value)) as Partial<T>;

/** The form field a refusal of the ledger points at (/data/email, /data/address/town). */
function fieldOfPointer(pointer: string): FieldName | undefined {
  const field = pointer.split('/').at(-1);
  return [...NAME_FIELDS, ...ADDRESS_FIELDS].find((known) => known === field);
}

function sendHtml(res: Response, status: number, html: string) {
  res.status(status).type('html').send(html);
}

function sendNotice(res: Response, status: number, frame: FrameProps, title: string, text: string) {
  sendHtml(res, status, renderNoticePage({ ...frame, title, text }));
}

/**
 * The status of a form body-parser refused before any handler ran (413: too long or too many
 * fields; 400, 415: not readable as a form), or null for any other error.
 */
function bodyParserStatus(error: unknown): number | null {
  const { type, status, expose } = (error ?? {}) as { type?: unknown; status?: unknown; expose?: unknown };
  const refused = typeof type === 'string' && expose === true && typeof status === 'number';
  return refused && status >= 400 && status < 500 ? status : null;
}

/**
 * The errors of the pages as pages: a forged or unknown link 404, a dead one 410 (expired, or the
 * person forgotten: nothing personal is shown, only that it no longer works), 429 past the link's
 * budget or the address's, a form too long to read 413, anything else a neutral 500 or 503 (the
 * log has the details, never the token).
 */
function noticeOfError(log: RouteContext['log'], institution: Institution): ErrorRequestHandler {
  return (error, req, res, next) => {
    if (res.headersSent) return next(error);
    res.set(PAGE_HEADERS);
    const language = languageOf(req);
    const { notice } = MESSAGES[language];
    const frame: FrameProps = { language, messages: MESSAGES[language], institution };
    if (error instanceof UnknownConsentLink) return sendNotice(res, 404, frame, notice.notFoundTitle, notice.notFound);
    // Forgotten: the person was forgotten between the page's read of their link and its write.
    if (error instanceof ConsentLinkGone || error instanceof Forgotten) {
      const text = error instanceof ConsentLinkGone && error.reason === 'expired' ? notice.expired : notice.gone;
      return sendNotice(res, 410, frame, notice.goneTitle, text);
    }
    if (error instanceof TooManyRequests) {
      res.set('Retry-After', String(error.retryAfterSeconds));
      return sendNotice(res, 429, frame, notice.tooManyTitle, notice.tooMany);
    }
    const refusedBody = bodyParserStatus(error);
    if (refusedBody) return sendNotice(res, refusedBody, frame, notice.unreadableTitle, notice.unreadable);
    const status = error instanceof LedgerError && error.status === 503 ? 503 : 500;
    if (status === 500)
      log.error({ err: { name: (error as Error).name }, route: req.route?.path }, 'privacy page failed');
    sendNotice(res, status, frame, notice.failedTitle, notice.failed);
  };
}
