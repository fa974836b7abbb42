import { Type } from '@sinclair/typebox';
import { Instant } from '../../domain/schema-kit.js';
import { auditEvents } from '../../app/audit-events.js';
import { auditCheckpoint } from '../../app/audit-checkpoint.js';
import { verifyChains } from '../../app/verify-chains.js';
import { REPLAY_BOUNDS, replayLimit, writeToReader } from '../audit-stream.js';
import { Nullable, Obj, perApp, route, type RouteContext } from '../route.js';

const Position = (options: object = {}) => Type.Integer({ minimum: 0, ...options });
const Revision = () => Type.Integer({ minimum: 0 });

const Checkpoint = Obj(
  {
    version: Type.Integer({ minimum: 1, description: 'the form of its leaves (2: position, hash, recordedAt)' }),
    position: Position({ description: 'the last record it covers' }),
    size: Type.Integer({ minimum: 0 }),
    rootHash: Type.String(),
    time: Instant(),
    signature: Type.String({ description: 'Ed25519, base64' }),
  },
  { title: 'AuditCheckpoint' },
);

const VerifyReport = Obj(
  {
    ok: Type.Boolean(),
    streams: Type.Integer({ minimum: 0 }),
    events: Type.Integer({ minimum: 0 }),
    broken: Type.Array(Obj({ stream: Type.String(), revision: Revision(), reason: Type.String() })),
    log: Nullable(
      Obj({
        chained: Type.Integer({ minimum: 0 }),
        from: Nullable(Position()),
        breaks: Type.Array(
          Obj({ position: Position(), stream: Type.String(), revision: Revision(), reason: Type.String() }),
        ),
      }),
    ),
    gaps: Type.Array(Obj({ from: Position(), to: Position() })),
    checkpoints: Obj({
      verified: Type.Integer({ minimum: 0 }),
      failed: Type.Array(Obj({ position: Position(), after: Position() })),
    }),
  },
  { title: 'VerifyReport', description: 'log, gaps and checkpoints: null, none and none when one stream is verified' },
);

const replays = perApp(({ options }: RouteContext) => options.replays ?? REPLAY_BOUNDS);
const replaysAtOnce = perApp((context: RouteContext) => replayLimit(replays(context)));

export const auditRoutes = [
  // Auditors read the log as stored, in position order, as NDJSON: sealed parts are never opened.
  route({
    method: 'get',
    path: '/v1/audit/events',
    operationId: 'replayAuditEvents',
    summary: 'the log as stored, in position order, as NDJSON (sealed parts never opened)',
    access: 'auditor',
    query: Type.Object({
      from: Type.Integer({
        minimum: 0,
        maximum: Number.MAX_SAFE_INTEGER,
        default: 0,
        description: 'exclusive position',
      }),
      limit: Type.Integer({ minimum: 1, maximum: 1_000_000, default: 10_000 }),
    }),
    responses: {
      200: {
        description:
          'one stored record a line (its chain fields, its sealed part as stored, erased and erasedBy); a ' +
          'reader that takes nothing for the stall time is cut off',
        mediaType: 'application/x-ndjson',
        schema: Type.String(),
      },
    },
    problems: [429],
    before: (context) => [replaysAtOnce(context)],
    async handle({ query: { from, limit }, res }, context) {
      res.type('application/x-ndjson').set('Cache-Control', 'no-store');
      for await (const page of auditEvents(context.ledger, from, limit)) {
        const chunk = page.map((record) => `${JSON.stringify(record)}\n`).join('');
        if (!(await writeToReader(res, chunk, replays(context).stalledMs))) return;
      }
      res.end();
    },
  }),
  route({
    method: 'get',
    path: '/v1/audit/checkpoint',
    operationId: 'getAuditCheckpoint',
    summary: 'a signed checkpoint of the log: {position, size, rootHash, time, signature} (Ed25519)',
    access: 'auditor',
    responses: { 200: { description: 'the checkpoint of the log as it is now', schema: Checkpoint } },
    async handle({ res }, { ledger }) {
      res.set('Cache-Control', 'no-store').json(await auditCheckpoint(ledger));
    },
  }),
  route({
    method: 'get',
    path: '/v1/audit/verify',
    operationId: 'verifyChains',
    summary: 'verification of the hash chains, of the log or of one stream',
    access: 'auditor',
    query: Type.Object({
      stream: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'one stream' })),
    }),
    responses: { 200: { description: 'the report', schema: VerifyReport } },
    problems: [404],
    async handle({ query: { stream }, res }, { ledger }) {
      res.json(await verifyChains(ledger, stream));
    },
  }),
];
