import { Type } from '@sinclair/typebox';
import { ValidationError } from '../../domain/errors.js';
import { TargetingRequest } from '../../domain/targeting.js';
import { ConsentExpiryReport, expireConsents } from '../../app/consent-expiry.js';
import { TargetingAnswer, targetCampaign } from '../../app/targeting.js';
import { answerThroughLink, ConsentPage, consentPage } from '../../app/consent-links.js';
import { CONSENT_LINK_LIMIT, rateLimit } from '../rate-limit.js';
import { ConsentExpiryRequest, ConsentLinkAnswer, dayOrInstant } from '../request-bodies.js';
import { Obj, perApp, route } from '../route.js';
import type { Request } from 'express';

const LINK_BUDGET = `${CONSENT_LINK_LIMIT.requests} requests per ${CONSENT_LINK_LIMIT.windowMs / 1000} s`;
const TokenParams = Obj({
  token: Type.String({ minLength: 1, maxLength: 2048, description: 'the link token (cl1.…)' }),
});
// Each link has its own request budget, counted by a hash of its token: one for both routes.
const perLink = perApp(() => rateLimit(CONSENT_LINK_LIMIT, (req) => String(req.params['token'])));

/** The caller's address as the socket gives it (an IPv4 client seen through an IPv6 socket unwrapped). */
export const clientIp = (req: Request): string | undefined => req.ip?.replace(/^::ffff:(?=\d+\.)/, '');

export const consentRoutes = [
  route({
    method: 'post',
    path: '/v1/consents/expire',
    operationId: 'expireConsents',
    summary: 'the consent-expiry job: every "yes" past its expiry back to unknown; 201 when any expired, else 200',
    access: 'batch',
    body: { schema: ConsentExpiryRequest, limit: 4096, what: 'expiry request', component: 'ConsentExpiryRequest' },
    responses: {
      200: { description: 'nothing expired', schema: ConsentExpiryReport },
      201: { description: 'consents expired (events appended)', schema: ConsentExpiryReport },
    },
    problems: [409, 422],
    async handle({ body: { asOf }, res }, { ledger }) {
      const report = await expireConsents(ledger, asOf !== undefined ? { asOf: dayOrInstant(asOf) } : {});
      res.status(report.expired > 0 ? 201 : 200).json(report);
    },
  }),
  route({
    method: 'post',
    path: '/v1/targeting',
    operationId: 'targetCampaign',
    summary:
      'a campaign audience: {eligible: [contactIds], excluded: {reason: count}, withoutAnswer}; operational ' +
      'campaigns skip the consent filter only; recencyBefore selects the consent-renewal audience',
    access: 'operator',
    body: { schema: TargetingRequest, limit: 'max', what: 'targeting request', component: 'TargetingRequest' },
    responses: { 200: { description: 'the audience', schema: TargetingAnswer } },
    async handle({ body, res }, { ledger }) {
      const before = body.recencyBefore !== undefined ? dayOrInstant(body.recencyBefore) : undefined;
      res.set('Cache-Control', 'no-store').json(await targetCampaign(ledger, body, before));
    },
  }),
  // The person's own page, reached by the signed link they were sent: no API key, the token is the proof.
  route({
    method: 'get',
    path: '/v1/consent-links/:token',
    operationId: 'getConsentPage',
    summary:
      "the person's consents, through their link (no key: the token is the proof; 404 forged, 410 expired; " +
      `429 with Retry-After past ${LINK_BUDGET} on the link)`,
    access: 'open',
    params: TokenParams,
    responses: { 200: { description: 'each purpose with the answer', schema: ConsentPage } },
    problems: [404, 410, 429],
    before: (context) => [perLink(context)],
    async handle({ params: { token }, res }, { ledger }) {
      res.set('Cache-Control', 'no-store').json(await consentPage(ledger, token));
    },
  }),
  route({
    method: 'post',
    path: '/v1/consent-links/:token',
    operationId: 'answerThroughConsentLink',
    summary:
      'the person gives or withdraws a consent through their link (source portal, IP kept as evidence); ' +
      `an answer that changes nothing appends nothing; the link's ${LINK_BUDGET} count it`,
    access: 'open',
    params: TokenParams,
    body: { schema: ConsentLinkAnswer, limit: 4096, what: 'consent answer', component: 'ConsentLinkAnswer' },
    responses: { 200: { description: 'the page as it is now', schema: ConsentPage } },
    problems: [404, 409, 410, 422, 429],
    before: (context) => [perLink(context)],
    async handle({ params: { token }, body, req, res }, { ledger }) {
      if (body.answer === 'yes' && body.wordingVersion === undefined) {
        throw new ValidationError('a "yes" needs the version of the wording the person was shown', [
          { pointer: '/wordingVersion', message: 'is required with answer yes' },
        ]);
      }
      const { wordingVersion = '' } = body;
      const page = await answerThroughLink(ledger, token, { ...body, wordingVersion }, clientIp(req));
      res.set('Cache-Control', 'no-store').json(page);
    },
  }),
];
