import { Type } from '@sinclair/typebox';
import { EVENT_TYPES } from '../../domain/catalog.js';
import { requireOwnSubscriber } from '../../domain/api-keys.js';
import { Code, Instant, Nullable, OneOf } from '../../domain/schema-kit.js';
import {
  DEFAULT_SECRET_OVERLAP_HOURS,
  MAX_SECRET_OVERLAP_HOURS,
  SUBSCRIBER_KINDS,
  SubscriberSettings,
} from '../../domain/subscribers.js';
import {
  configureSubscriber,
  listDeadLetters,
  listSubscribers,
  removeSubscriber,
  replayDeadLetters,
  rotateSubscriberSecret,
} from '../../app/subscribers.js';
import { confirmErasure } from '../../app/erasure-confirmations.js';
import { ErasureAcknowledgementBody } from '../request-bodies.js';
import { Obj, route } from '../route.js';
import { Items } from './shared-schemas.js';

const configuration = {
  name: Type.String(),
  kind: OneOf(SUBSCRIBER_KINDS),
  url: Type.Optional(Type.String({ description: 'webhook: the url without its query (shown as ?…)' })),
  subject: Type.Optional(Type.String()),
  eventTypes: Type.Array(OneOf(EVENT_TYPES)),
  confirmsErasure: Type.Boolean(),
  configuredAt: Instant(),
};
const Subscriber = Obj(configuration, { title: 'Subscriber' });
const SubscriberWithDelivery = Obj(
  {
    ...configuration,
    delivery: Obj({
      position: Type.Integer({ minimum: 0, description: 'the log position delivered up to (0: none yet)' }),
      lag: Type.Integer({ minimum: 0, description: "events of the log after it (of every type): the head's distance" }),
      deadLetters: Type.Integer({ minimum: 0, description: 'messages given up on after their attempts' }),
      lastDelivery: Nullable(
        Obj(
          { eventId: Type.String(), position: Type.Integer({ minimum: 0 }), at: Instant() },
          { description: 'the last message the receiver took (null: none yet)' },
        ),
      ),
      lastFailure: Nullable(
        Obj(
          { error: Type.String({ description: 'a status (HTTP 503) or network error code' }), at: Instant() },
          { description: 'the last attempt that failed, even if delivery has gone on since (null: none)' },
        ),
      ),
      failing: Nullable(
        Obj(
          {
            since: Instant({ description: 'the first failed attempt since a message was last delivered' }),
            attempts: Type.Integer({ minimum: 1, description: 'attempts failed since then' }),
          },
          { description: 'null: the last attempt was delivered (or none made)' },
        ),
      ),
    }),
  },
  { title: 'SubscriberWithDelivery' },
);
const Configured = Obj({
  subscriber: Subscriber,
  changed: Type.Boolean({ description: 'false: the same again, nothing appended' }),
  secret: Type.Optional(
    Type.String({
      pattern: '^whsec_',
      description: "a new webhook's signing secret (Standard Webhooks): shown this once, never again",
    }),
  ),
});

const NameParams = Obj({ name: Code() });

const SecretRotationSettings = Type.Object(
  {
    overlapHours: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: MAX_SECRET_OVERLAP_HOURS,
        description: `hours the secret before signs beside the new (default ${DEFAULT_SECRET_OVERLAP_HOURS}; 0: not)`,
      }),
    ),
  },
  { additionalProperties: false },
);

const DeadLetter = Obj(
  {
    eventId: Type.String(),
    position: Type.Integer({ minimum: 0 }),
    attempts: Type.Integer({ minimum: 1 }),
    error: Type.String({ description: 'the last status (HTTP 503) or network error code (ECONNREFUSED)' }),
    failedAt: Instant(),
    replay: Type.Boolean({ description: 'true: to be sent again at the next pass of the delivery' }),
  },
  { title: 'DeadLetter' },
);

const Confirmation = Obj(
  {
    subscriber: Type.String(),
    eventId: Type.String({ description: 'the forgetting acknowledged' }),
    requestId: Nullable(
      Type.String({
        description: 'the erasure request the forgetting executed, if any (one made by a batch run has none)',
      }),
    ),
    confirmedBy: Obj({ eventId: Type.String({ description: 'the ErasureConfirmed event' }), at: Instant() }),
    changed: Type.Boolean({ description: 'false: already confirmed, nothing appended' }),
  },
  { title: 'ErasureConfirmation' },
);

// Downstream systems (issue 27): configuration events of the `subscribers` stream, delivered to by `serve`.
export const subscriberRoutes = [
  route({
    method: 'put',
    path: '/v1/subscribers/:name',
    operationId: 'configureSubscriber',
    summary:
      'configure a downstream system (webhook url or NATS subject, event types, confirmsErasure): a configuration ' +
      'event; 201 {subscriber, changed, secret} when created, 200 {subscriber, changed} otherwise',
    access: 'admin',
    params: NameParams,
    body: { schema: SubscriberSettings, limit: 8192, what: 'subscriber', component: 'SubscriberSettings' },
    responses: {
      200: { description: 'the subscriber as now in force', schema: Configured },
      201: { description: 'the new subscriber; a webhook with its secret, shown this once', schema: Configured },
    },
    problems: [409],
    async handle({ params: { name }, body, res }, { ledger }) {
      const { created, ...answer } = await configureSubscriber(ledger, name, body);
      // A secret is never cached by anything between here and the admin.
      res
        .status(created ? 201 : 200)
        .set('Cache-Control', 'no-store')
        .json(answer);
    },
  }),
  route({
    method: 'get',
    path: '/v1/subscribers',
    operationId: 'listSubscribers',
    summary:
      'every subscriber as now configured, with its delivery (position, lag, dead letters, last delivery, last ' +
      'failure, failing since); never a secret',
    access: 'admin',
    responses: { 200: { description: 'by name', schema: Items(SubscriberWithDelivery, 'SubscriberList') } },
    async handle({ res }, { ledger }) {
      res.json({ items: await listSubscribers(ledger) });
    },
  }),
  route({
    method: 'post',
    path: '/v1/subscribers/:name/secret/rotate',
    operationId: 'rotateSubscriberSecret',
    summary:
      "rotate a webhook's signing secret: a SubscriberSecretRotated event; 200 {name, secret, previousValidUntil}, " +
      'the new secret shown this once; messages carry both signatures until previousValidUntil, then the new only',
    access: 'admin',
    params: NameParams,
    body: { schema: SecretRotationSettings, limit: 1024, what: 'secret rotation', component: 'SecretRotationSettings' },
    responses: {
      200: {
        description: 'the new secret, shown this once',
        schema: Obj({
          name: Type.String(),
          secret: Type.String({ pattern: '^whsec_', description: 'the new signing secret (Standard Webhooks)' }),
          previousValidUntil: Instant({ description: 'the secret before it signs too until then' }),
        }),
      },
    },
    problems: [404, 409, 422],
    async handle({ params: { name }, body, res }, { ledger }) {
      const rotated = await rotateSubscriberSecret(ledger, name, body.overlapHours);
      res.set('Cache-Control', 'no-store').json(rotated);
    },
  }),
  route({
    method: 'delete',
    path: '/v1/subscribers/:name',
    operationId: 'removeSubscriber',
    summary: 'stop delivering to a subscriber: a SubscriberRemoved event; 404 for an unknown name',
    access: 'admin',
    params: NameParams,
    responses: { 200: { description: 'removed', schema: Obj({ name: Type.String(), removed: Type.Literal(true) }) } },
    problems: [404, 409],
    async handle({ params: { name }, res }, { ledger }) {
      await removeSubscriber(ledger, name);
      res.json({ name, removed: true });
    },
  }),
  route({
    method: 'get',
    path: '/v1/subscribers/:name/dead-letters',
    operationId: 'listDeadLetters',
    summary: "a subscriber's messages given up on after their attempts, in log order; 404 for an unknown name",
    access: 'admin',
    params: NameParams,
    responses: { 200: { description: 'in log order', schema: Items(DeadLetter, 'DeadLetterList') } },
    problems: [404],
    async handle({ params: { name }, res }, { ledger }) {
      res.json({ items: await listDeadLetters(ledger, name) });
    },
  }),
  route({
    method: 'post',
    path: '/v1/subscribers/:name/dead-letters/replay',
    operationId: 'replayDeadLetters',
    summary:
      "send a subscriber's dead letters again (the delivery does, at its next pass): 202 {name, replaying}; " +
      'each is removed once delivered, or recorded failed again',
    access: 'admin',
    params: NameParams,
    responses: {
      202: {
        description: 'the dead letters to be sent again',
        schema: Obj({ name: Type.String(), replaying: Type.Integer({ minimum: 0 }) }),
      },
    },
    problems: [404],
    async handle({ params: { name }, res }, { ledger }) {
      res.status(202).json({ name, replaying: await replayDeadLetters(ledger, name) });
    },
  }),
  // A subscriber key's one route, for its own subscriber (403 otherwise, before the body is read).
  route({
    method: 'post',
    path: '/v1/subscribers/:name/acks',
    operationId: 'acknowledgeErasure',
    summary:
      'a subscriber (confirmsErasure) says it erased its copy after a forgetting delivered to it: {eventId}; an ' +
      "ErasureConfirmed event in the contact's stream; 201 when recorded, 200 (changed: false) when already so",
    access: 'subscriber',
    params: NameParams,
    before: () => [
      (req, res, next) => {
        requireOwnSubscriber(res.locals['key'], String(req.params['name']));
        next();
      },
    ],
    body: {
      schema: ErasureAcknowledgementBody,
      limit: 1024,
      what: 'acknowledgement',
      component: 'ErasureAcknowledgementBody',
    },
    responses: {
      200: { description: 'already confirmed: the confirmation recorded then', schema: Confirmation },
      201: { description: 'the confirmation recorded', schema: Confirmation },
    },
    problems: [404, 409, 422],
    async handle({ params: { name }, body, res }, { ledger }) {
      const confirmation = await confirmErasure(ledger, name, body.eventId, res.locals['key']);
      res.status(confirmation.changed ? 201 : 200).json(confirmation);
    },
  }),
];
