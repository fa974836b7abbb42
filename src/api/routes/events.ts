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

export const eventRoutes = [
  route({
    method: 'post',
    path: '/v1/events',
    operationId: 'publishEvents',
    summary: 'publish one event or a batch: all validated, then all appended or none',
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
