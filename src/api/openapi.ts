import { Type, type TSchema } from '@sinclair/typebox';
import { catalog, EVENT_TYPES } from '../domain/catalog.js';
import { Envelope, MAX_BATCH } from '../domain/envelope.js';
import { CUSTOM_FORMATS } from '../domain/validation.js';
import { PROBLEM_REPLIES } from './problem-replies.js';
import type { AnyRoute, Reply } from './route.js';
import { ROUTES } from './routes/index.js';
import { documentPath, statusesOf } from './wiring.js';

/** The request schema of each event type an upstream system may publish: its envelope with its data. */
export const eventSchemas = () =>
  Object.fromEntries(
    EVENT_TYPES.filter((type) => catalog[type].origin === 'upstream').map((type) => [
      `${type}Event`,
      Type.Composite(
        [Type.Omit(Envelope, ['type', 'data']), Type.Object({ type: Type.Literal(type), data: catalog[type].schema })],
        {
          additionalProperties: false,
        },
      ),
    ]),
  );

/** The ledger's own keywords, as the document writes them: extensions (`x-…`), which validators ignore. */
const EXTENSIONS: Record<string, string> = { personal: 'x-personal', freeText: 'x-free-text', place: 'x-place' };
/** Keywords whose value maps names to schemas, and keywords whose value is a schema or a list of them. */
const SCHEMA_MAPS = new Set(['properties', 'patternProperties', '$defs', 'definitions', 'dependentSchemas']);
const SCHEMA_VALUED = new Set([
  'items',
  'additionalProperties',
  'not',
  'if',
  'then',
  'else',
  'contains',
  'propertyNames',
  'unevaluatedItems',
  'unevaluatedProperties',
  'anyOf',
  'oneOf',
  'allOf',
  'prefixItems',
]);

/**
 * A schema as the document holds it: plain JSON (TypeBox's symbols dropped), the ledger's own
 * keywords renamed to their extensions; property names are left as they are.
 */
export function documentSchema(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(documentSchema);
  if (schema === null || typeof schema !== 'object') return schema;
  const out: Record<string, unknown> = {};
  for (const [keyword, value] of Object.entries(schema)) {
    if (SCHEMA_MAPS.has(keyword) && value && typeof value === 'object') {
      out[keyword] = Object.fromEntries(Object.entries(value).map(([name, inner]) => [name, documentSchema(inner)]));
    } else if (SCHEMA_VALUED.has(keyword)) {
      out[keyword] = documentSchema(value);
    } else {
      out[EXTENSIONS[keyword] ?? keyword] = JSON.parse(JSON.stringify(value ?? null));
    }
  }
  return out;
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

/** The document's parameters of a path or query schema: one per property, its description lifted. */
function parametersOf(schema: TSchema | undefined, where: 'path' | 'query') {
  if (!schema) return [];
  const properties = (schema['properties'] ?? {}) as Record<string, TSchema>;
  const required = new Set((schema['required'] ?? []) as string[]);
  return Object.entries(properties).map(([name, property]) => {
    const { description, ...rest } = documentSchema(property) as Record<string, unknown>;
    return {
      name,
      in: where,
      required: where === 'path' || (required.has(name) && rest['default'] === undefined),
      ...(description ? { description } : {}),
      schema: rest,
    };
  });
}

/** A reply as the document writes it; a schema with a title becomes a component named by it. */
function replyOf(reply: Reply, schemas: Record<string, unknown>) {
  let schema: unknown = reply.schema ? documentSchema(reply.schema) : undefined;
  const title = reply.schema?.['title'] as string | undefined;
  if (title && reply.mediaType === undefined) {
    schemas[title] = schema;
    schema = ref(title);
  }
  return {
    description: reply.description,
    ...(reply.headers
      ? {
          headers: Object.fromEntries(
            Object.entries(reply.headers).map(([name, header]) => [
              name,
              { description: header.description, schema: documentSchema(header.schema) },
            ]),
          ),
        }
      : {}),
    content: { [reply.mediaType ?? 'application/json']: schema ? { schema } : {} },
  };
}

const SECURITY = { open: [], loopback: [{ apiKey: [] }] } as const;

function operationOf(route: AnyRoute, schemas: Record<string, unknown>) {
  const responses: Record<string, unknown> = {};
  for (const status of statusesOf(route)) {
    const own = route.responses[status];
    const problem = PROBLEM_REPLIES[status] ?? PROBLEM_REPLIES[0]!;
    responses[status] = own ? replyOf(own, schemas) : { $ref: `#/components/responses/${problem.component}` };
  }
  const parameters = [...parametersOf(route.params, 'path'), ...parametersOf(route.query, 'query')];
  const body = route.body;
  if (body && !schemas[body.component]) schemas[body.component] = documentSchema(body.schema);
  return {
    operationId: route.operationId,
    summary: route.summary,
    ...(route.description ? { description: route.description } : {}),
    'x-role': route.access === 'open' || route.access === 'loopback' ? 'none' : route.access,
    ...(route.access === 'loopback' ? { 'x-open-on-loopback': true } : {}),
    security: route.access === 'open' || route.access === 'loopback' ? SECURITY[route.access] : [{ apiKey: [] }],
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(body
      ? { requestBody: { required: true, content: { 'application/json': { schema: ref(body.component) } } } }
      : {}),
    responses,
  };
}

const FORMATS = Object.entries(CUSTOM_FORMATS)
  .map(([name, { description }]) => `- \`${name}\`: ${description}`)
  .join('\n');

/** The OpenAPI 3.1 document of the API, generated from the route table and the validators' schemas. */
export function openApiDocument(version: string, routes: readonly AnyRoute[] = ROUTES) {
  const events = Object.fromEntries(Object.entries(eventSchemas()).map(([name, s]) => [name, documentSchema(s)]));
  const anyEvent = { oneOf: Object.keys(events).map(ref) };
  const schemas: Record<string, unknown> = {
    ...events,
    PublishBody: {
      oneOf: [
        anyEvent,
        {
          type: 'object',
          properties: { events: { type: 'array', minItems: 1, maxItems: MAX_BATCH, items: anyEvent } },
          required: ['events'],
          additionalProperties: false,
        },
      ],
    },
  };
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const path = documentPath(route.path);
    paths[path] = { ...paths[path], [route.method]: operationOf(route, schemas) };
  }
  const responses = Object.fromEntries(
    Object.values(PROBLEM_REPLIES).map(({ component, ...reply }) => [component, replyOf(reply, schemas)]),
  );
  schemas['Problem'] = documentSchema(PROBLEM_REPLIES[0]!.schema);
  for (const response of Object.values(responses)) {
    (response.content['application/problem+json'] as { schema: unknown }).schema = ref('Problem');
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'contact-ledger',
      version,
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
      description:
        'Event-sourced GDPR contact ledger. Every route but /health and the consent links needs ' +
        '`Authorization: Bearer <key>` of a role that may use it (x-role; admin may use every route); ' +
        '/metrics and /openapi.json are open on loopback (x-open-on-loopback) and need a key of any role ' +
        'otherwise. A known path asked with another method answers 405 with Allow.\n\n' +
        'Schema extensions: `x-personal` marks personal data (sealed under its key scope, erased by a ' +
        'forgetting), `x-free-text` free text the text guard reads, `x-place` a part of a place kept in ' +
        'clear after a forgetting (its rule in the description).\n\n' +
        `Formats of the ledger's own (registered with its validator):\n${FORMATS}`,
    },
    servers: [{ url: '/', description: 'the ledger serving this document' }],
    paths,
    components: {
      securitySchemes: {
        apiKey: { type: 'http', scheme: 'bearer', description: 'an API key from ledger keys create' },
      },
      schemas,
      responses,
    },
  };
}
