import { Type } from '@sinclair/typebox';
import { publish } from '../../app/publish.js';
import { Obj, route } from '../route.js';
import { RemarkRecommendations, TextWarning } from './shared-schemas.js';

const PublishResult = Obj(
  {
    appended: Type.Array(
      Obj({
        id: Type.String(),
        stream: Type.String(),
        revision: Type.Integer({ minimum: 0 }),
        position: Type.Integer({ minimum: 0 }),
      }),
    ),
    duplicates: Type.Array(Type.String(), { description: 'ids already stored (retries): nothing appended' }),
    warnings: Type.Array(
      Obj({
        index: Type.Integer({ minimum: 0, description: 'the event of the batch' }),
        message: Type.String(),
        pointer: Type.Optional(Type.String()),
        code: Type.Optional(Type.String()),
        ...Object.fromEntries(Object.entries(TextWarning).map(([name, schema]) => [name, Type.Optional(schema)])),
      }),
    ),
    reminder: Type.Optional(RemarkRecommendations),
  },
  { title: 'PublishResult' },
);

/**
 * What a batch's append guarantees, by backend (README "HTTP API"; src/eventstoredb/esdb-event-store.ts
 * says why EventStoreDB's is per stream).
 */
const PUBLISH_ATOMICITY =
  'Every event is validated before any is appended. On SQLite and PostgreSQL a batch is one transaction: ' +
  'all of it is appended, or none. On EventStoreDB (`LEDGER_STORE=eventstoredb`) it is all or none per ' +
  'stream, not per batch: a refusal found before writing (409 on an `expectedRevision`, 410, 422, an id ' +
  "re-used in the batch's streams) appends nothing, but a failure while writing (503, or a 409 when " +
  'another writer moved a stream given an `expectedRevision`) may leave the streams written before it. ' +
  'Give every event its `id`: publishing the same batch again then completes it, the events already ' +
  'stored coming back as `duplicates`.';

export const eventRoutes = [
  route({
    method: 'post',
    path: '/v1/events',
    operationId: 'publishEvents',
    summary:
      'publish one event or a batch: all validated, then all appended or none ' +
      '(on EventStoreDB: all or none per stream, not per batch)',
    description: PUBLISH_ATOMICITY,
    access: 'publisher',
    body: { schema: Type.Unknown(), unchecked: true, limit: 'max', what: 'events', component: 'PublishBody' },
    responses: {
      201: { description: 'appended (some or all: the others are duplicates)', schema: PublishResult },
      200: { description: 'every event a duplicate: nothing appended', schema: PublishResult },
    },
    problems: [409, 410, 422],
    async handle({ body, res }, { ledger, options }) {
      const result = await publish(ledger, body, { textGuard: options.textGuard ?? 'warn' });
      res.status(result.appended.length > 0 ? 201 : 200).json(result);
    },
  }),
];
