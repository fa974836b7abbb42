import { Type } from '@sinclair/typebox';
import { ERASURE_STATUSES } from '../../domain/erasure-requests.js';
import { OneOf, OpaqueId } from '../../domain/schema-kit.js';
import {
  ErasureRequestView,
  ErasureRequestWithEvidence,
  erasureRequestWithEvidence,
  executeErasure,
  listErasureRequests,
  refuseErasure,
  requestErasure,
} from '../../app/erasure-requests.js';
import { erasureCertificate } from '../../app/erasure-certificate.js';
import { ErasureCertificate } from '../../domain/erasure-certificate.js';
import { ErasureRefusalBody, ErasureRequestBody } from '../request-bodies.js';
import { Obj, route } from '../route.js';
import { Items } from './shared-schemas.js';

const Executed = Obj(
  { ...ErasureRequestView.properties, forgettingEvent: Obj({ id: Type.String(), type: Type.String() }) },
  { title: 'ExecutedErasureRequest' },
);

const RequestParams = Obj({ requestId: OpaqueId({ description: 'the erasure request id (ER-…)' }) });
const BODY_LIMIT = 16 * 1024;

export const erasureRoutes = [
  route({
    method: 'post',
    path: '/v1/erasure-requests',
    operationId: 'requestErasure',
    summary: 'record a request to be forgotten: {requestId, status: pending, dueAt} (30 days)',
    access: 'operator',
    body: { schema: ErasureRequestBody, limit: BODY_LIMIT, what: 'erasure request', component: 'ErasureRequestBody' },
    responses: { 201: { description: 'the request, pending', schema: ErasureRequestView } },
    problems: [404, 409, 410],
    async handle({ body, res }, { ledger }) {
      res
        .status(201)
        .set('Cache-Control', 'no-store')
        .json(await requestErasure(ledger, body));
    },
  }),
  route({
    method: 'get',
    path: '/v1/erasure-requests',
    operationId: 'listErasureRequests',
    summary: 'erasure requests, oldest first (never their evidence: see GET /v1/erasure-requests/{requestId})',
    access: 'operator',
    query: Type.Object({
      status: Type.Optional(
        OneOf(ERASURE_STATUSES, { description: 'overdue: pending, or awaiting a confirmation, past its due date' }),
      ),
    }),
    responses: { 200: { description: 'the requests', schema: Items(ErasureRequestView, 'ErasureRequestList') } },
    async handle({ query: { status }, res }, { ledger }) {
      res.json({ items: await listErasureRequests(ledger, status) });
    },
  }),
  // The one route that opens a request's evidence, whether or not the person is forgotten: for the
  // roles that handle requests, until the accountability period ends.
  route({
    method: 'get',
    path: '/v1/erasure-requests/:requestId',
    operationId: 'getErasureRequest',
    summary:
      'one request with its evidence opened (evidenceState: open, none, erased or period-ended), even once ' +
      'the person is forgotten, until evidenceKeptUntil (5 years after the request)',
    access: 'operator',
    params: RequestParams,
    responses: { 200: { description: 'the request and its evidence', schema: ErasureRequestWithEvidence } },
    problems: [404],
    async handle({ params: { requestId }, res }, { ledger }) {
      res.set('Cache-Control', 'no-store').json(await erasureRequestWithEvidence(ledger, requestId));
    },
  }),
  // Proves the execution offline: `ledger audit verify-certificate` checks it with the audit public key.
  route({
    method: 'get',
    path: '/v1/erasure-requests/:requestId/certificate',
    operationId: 'getErasureCertificate',
    summary:
      'the signed erasure certificate of an executed request (nothing personal): the forgetting, its position and ' +
      'hash, the keys destroyed, the downstream confirmations and those awaited, a signed checkpoint with the ' +
      'proofs that those records are under it; 422 when the request forgot nothing (pending or refused) or its ' +
      'keys are not destroyed, or not wiped from the files of the key store, yet',
    access: 'operator',
    params: RequestParams,
    responses: {
      200: { description: 'the certificate, signed with the audit key (Ed25519)', schema: ErasureCertificate },
    },
    problems: [404, 422],
    async handle({ params: { requestId }, res }, { ledger }) {
      res.set('Cache-Control', 'no-store').json(await erasureCertificate(ledger, requestId));
    },
  }),
  // Executed by the operator whose key called: the forgetting event names it. The shredder
  // reaction of this process destroys the keys.
  route({
    method: 'post',
    path: '/v1/erasure-requests/:requestId/execute',
    operationId: 'executeErasureRequest',
    summary: 'run the checks and forget the person, or 422 naming what blocks (the request stays pending)',
    access: 'operator',
    params: RequestParams,
    responses: { 200: { description: 'the request, done, and the forgetting event', schema: Executed } },
    problems: [404, 409, 410, 422],
    async handle({ params: { requestId }, res }, { ledger }) {
      const { request, forgettingEvent } = await executeErasure(ledger, requestId, res.locals['keyId']);
      res.json({ ...request, forgettingEvent: { id: forgettingEvent.id, type: forgettingEvent.type } });
    },
  }),
  route({
    method: 'post',
    path: '/v1/erasure-requests/:requestId/refuse',
    operationId: 'refuseErasureRequest',
    summary: 'refuse a pending request with a reason (an event in the log)',
    access: 'operator',
    params: RequestParams,
    body: { schema: ErasureRefusalBody, limit: BODY_LIMIT, what: 'refusal', component: 'ErasureRefusalBody' },
    responses: { 200: { description: 'the request, refused', schema: ErasureRequestView } },
    problems: [404, 409, 422],
    async handle({ params: { requestId }, body, res }, { ledger }) {
      res.json(await refuseErasure(ledger, requestId, body.reason));
    },
  }),
];
