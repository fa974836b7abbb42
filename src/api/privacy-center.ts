import express, { type ErrorRequestHandler, type Request, type RequestHandler, type Response } from 'express';
import { answerThroughLink, consentPage, type ConsentPage } from '../app/consent-links.js';
import { ConsentLinkGone, LedgerError, TooManyRequests, UnknownConsentLink } from '../domain/errors.js';
import { ASSETS_DIR } from '../web/assets.js';
import { chooseLanguage, LANGUAGES, MESSAGES, type Language, type Messages } from '../web/messages/index.js';
import type { PrivacyPageProps } from '../web/pages/privacy-page.js';
import { renderNoticePage, renderPrivacyPage } from '../web/render.js';
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
const ANSWER = '/privacy/:token/consents';

/**
 * The privacy center (issue 26): HTML pages for the person, server-rendered (Preact components of
 * src/web), working without JavaScript: each action is a form POST that redirects back (303) to the
 * page, which shows what was recorded. The signed consent link is the proof, as for its JSON twin
 * (routes/consents.ts), and the same use cases answer (app/consent-links.ts). A router of its own,
 * outside the API document: the pages are no part of the API. The access log names the route
 * pattern (/privacy/:token), never the token.
 */
export function privacyCenter(context: RouteContext): express.Router {
  const router = express.Router();
  const { ledger, log } = context;
  const perLink = rateLimit(CONSENT_LINK_LIMIT, (req) => `privacy ${String(req.params['token'])}`);
  // Every request under /privacy counts, a forged link's 404 too: guessing tokens costs the budget.
  const perAddress = rateLimit(PRIVACY_ADDRESS_LIMIT, (req) => `privacy address ${clientIp(req) ?? 'unknown'}`);
  const form = express.urlencoded({ extended: false, limit: 4096, parameterLimit: 10 });

  router.get('/assets/:file', (req, res, next) => {
    res.sendFile(String(req.params['file']), { root: ASSETS_DIR, dotfiles: 'deny', maxAge: '1h' }, (error) => {
      if (error && !res.headersSent) next();
    });
  });
  router.use('/privacy', pageHeaders, perAddress);

  router.get(PAGE, perLink, async (req, res) => {
    const token = String(req.params['token']);
    const language = languageOf(req);
    const page = await consentPage(ledger, token);
    // The banner of the answer just recorded (post-redirect-get): only for a purpose the page shows.
    const { done, purpose } = req.query;
    const answer = (['given', 'withdrawn'] as const).find((known) => known === done);
    const shown = page.purposes.find((p) => p.code === purpose);
    const banner = answer && shown ? { answer, purpose: shown.code } : undefined;
    sendPage(res, 200, pagePropsOf(context, token, language, page, { banner }));
  });

  router.post(ANSWER, perLink, form, async (req, res) => {
    const token = String(req.params['token']);
    const body = (req.body ?? {}) as Record<string, unknown>;
    const language = languageOf(req);
    const messages = MESSAGES[language];
    // Before anything is read: a form not made by this page for this link changes nothing.
    if (!ledger.consentLinks.checkFormToken(token, body['csrf'])) {
      return sendNotice(res, 403, language, messages.notice.formExpiredTitle, messages.notice.formExpired);
    }
    const page = await consentPage(ledger, token);
    const { purpose, answer } = body;
    const shown = page.purposes.find((p) => p.code === purpose);
    const refuse = (status: number, href: string, text: string) =>
      sendPage(res, status, pagePropsOf(context, token, language, page, { errors: [{ href, text }] }));
    if (!shown) return refuse(400, '#main', messages.errors.unknownPurpose);
    const anchor = `#purpose-${shown.code}`;
    if (answer !== 'yes' && answer !== 'no') return refuse(400, anchor, messages.errors.chooseAnswer);
    if (answer === 'yes' && shown.kind === 'legalBasis') return refuse(400, anchor, messages.errors.legalBasisGiven);
    try {
      await answerThroughLink(
        ledger,
        token,
        { purpose: shown.code, answer, wordingVersion: messages.wordingVersion },
        clientIp(req),
      );
    } catch (error) {
      // A rule of the ledger refused it (409, 422): said on the page, as any error of the form.
      if (error instanceof LedgerError && (error.status === 409 || error.status === 422)) {
        return refuse(error.status, anchor, messages.errors.refused);
      }
      throw error;
    }
    const done = answer === 'yes' ? 'given' : 'withdrawn';
    const query = new URLSearchParams({ lang: language, done, purpose: shown.code });
    res.redirect(303, `/privacy/${token}?${query}`);
  });

  // Any other path under /privacy: the neutral 404, never an echo of what was asked.
  router.all('/privacy/{*rest}', (req, res) => {
    const language = languageOf(req);
    const { notice } = MESSAGES[language];
    sendNotice(res, 404, language, notice.notFoundTitle, notice.notFound);
  });

  router.use('/privacy', noticeOfError(log));
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

function pagePropsOf(
  { ledger }: RouteContext,
  token: string,
  language: Language,
  page: ConsentPage,
  extra: Pick<PrivacyPageProps, 'banner' | 'errors'>,
): PrivacyPageProps {
  const other = LANGUAGES.find((l) => l !== language)!;
  return {
    language,
    messages: MESSAGES[language],
    token,
    formToken: ledger.consentLinks.formToken(token),
    page,
    switchTo: { language: other, href: `?lang=${other}`, label: MESSAGES[other].languageName },
    ...extra,
  };
}

function sendPage(res: Response, status: number, props: PrivacyPageProps) {
  res.status(status).type('html').send(renderPrivacyPage(props));
}

function sendNotice(res: Response, status: number, language: Language, title: string, text: string) {
  const messages: Messages = MESSAGES[language];
  res.status(status).type('html').send(renderNoticePage({ language, messages, title, text }));
}

/**
 * The errors of the pages as pages: a forged or unknown link 404, a dead one 410 (expired, or the
 * person forgotten: nothing personal is shown, only that it no longer works), 429 past the link's
 * budget or the address's, anything else a neutral 500 or 503 (the log has the details, never the token).
 */
function noticeOfError(log: RouteContext['log']): ErrorRequestHandler {
  return (error, req, res, next) => {
    if (res.headersSent) return next(error);
    res.set(PAGE_HEADERS);
    const language = languageOf(req);
    const { notice } = MESSAGES[language];
    if (error instanceof UnknownConsentLink)
      return sendNotice(res, 404, language, notice.notFoundTitle, notice.notFound);
    if (error instanceof ConsentLinkGone) {
      const text = error.reason === 'expired' ? notice.expired : notice.gone;
      return sendNotice(res, 410, language, notice.goneTitle, text);
    }
    if (error instanceof TooManyRequests) {
      res.set('Retry-After', String(error.retryAfterSeconds));
      return sendNotice(res, 429, language, notice.tooManyTitle, notice.tooMany);
    }
    const status = error instanceof LedgerError && error.status === 503 ? 503 : 500;
    if (status === 500)
      log.error({ err: { name: (error as Error).name }, route: req.route?.path }, 'privacy page failed');
    sendNotice(res, status, language, notice.failedTitle, notice.failed);
  };
}
