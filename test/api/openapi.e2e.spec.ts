import { expect } from 'chai';
import { declaredRoutes } from '../support/routes.js';
import { openTestLedger, type TestLedger } from '../support/ledger.js';
import { startApi, type Api } from '../support/http.js';
import { createApp } from '../../src/api/app.js';
import { createLogger } from '../../src/log.js';
import { catalog, EVENT_TYPES } from '../../src/domain/catalog.js';
import { validatorFor } from '../../src/domain/validation.js';
import { documentSchema, eventSchemas } from '../../src/api/openapi.js';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { CUSTOM_FORMATS } from '../../src/domain/validation.js';
import { person, registered } from '../support/events.js';

describe('GET /openapi.json (OpenAPI 3.1 from the validators’ TypeBox schemas)', () => {
  let ledger: TestLedger;
  let api: Api;
  let document: any;
  before(async () => {
    ledger = await openTestLedger();
    api = await startApi(ledger);
    const response = await api.get('/openapi.json', { authorization: '' });
    expect(response.status).to.equal(200); // open on loopback, no key
    document = response.body;
  });
  after(async () => {
    await api.close();
    await ledger.dispose();
  });

  it('lists every route of the express app, each with its role and its problem responses', () => {
    const app = createApp(ledger, createLogger('silent'), { maxBodyBytes: 1024, allowedHosts: ['localhost'] });
    const documented = Object.entries(document.paths as Record<string, Record<string, unknown>>).flatMap(
      ([path, methods]) => Object.keys(methods).map((method) => `${method} ${path}`),
    );
    const declared = declaredRoutes(app).map((route) => route.replace(/:(\w+)/g, '{$1}'));
    expect(documented.sort()).to.deep.equal(declared.sort());
    expect(document.openapi).to.equal('3.1.0');
    const publishRoute = document.paths['/v1/events'].post;
    expect(publishRoute['x-role']).to.equal('publisher');
    expect(publishRoute.security).to.deep.equal([{ apiKey: [] }]);
    expect(Object.keys(publishRoute.responses)).to.include.members(['201', '400', '401', '403', '409', '422']);
    expect(document.paths['/health'].get.security).to.deep.equal([]);
  });

  it('names every operation, documents 421, 500 and 503 (with Retry-After) everywhere, keys off loopback', () => {
    const operations = Object.values(document.paths as Record<string, Record<string, any>>).flatMap((methods) =>
      Object.values(methods),
    );
    const ids = operations.map((operation) => operation.operationId);
    expect(ids.every((id) => typeof id === 'string')).to.equal(true);
    expect(new Set(ids).size).to.equal(ids.length);
    for (const operation of operations) {
      expect(Object.keys(operation.responses), operation.operationId).to.include.members(['421', '500', '503']);
    }
    expect(document.components.responses.Unavailable.headers).to.have.property('Retry-After');
    expect(document.servers).to.have.length.above(0);
    for (const path of ['/metrics', '/openapi.json']) {
      expect(document.paths[path].get.security).to.deep.equal([{ apiKey: [] }]);
    }
    const bodies = document.paths['/v1/targeting'].post.responses;
    expect(Object.keys(bodies)).to.include.members(['200', '400', '413', '415']);
    expect(bodies['200'].content['application/json'].schema).to.deep.equal({
      $ref: '#/components/schemas/TargetingAnswer',
    });
  });

  it('types query parameters, and writes the ledger keywords as extensions (x-personal, x-free-text)', () => {
    const query = (path: string, name: string) =>
      document.paths[path].get.parameters.find((parameter: any) => parameter.name === name).schema;
    expect(query('/v1/audit/events', 'limit').type).to.equal('integer');
    expect(query('/v1/audit/events', 'from').type).to.equal('integer');
    expect(query('/v1/erasure-requests', 'status').enum).to.include('overdue');
    const text = JSON.stringify(document);
    expect(text).not.to.match(/"(personal|freeText)":true|"place":"/);
    expect(text).to.contain('"x-personal":true').and.to.contain('"x-free-text":true');
  });

  it("compiles with ajv-formats and the ledger's formats, each described in the document", () => {
    const ajv = new Ajv2020({ strict: true, allErrors: true });
    addFormats.default(ajv);
    for (const [name, { validate }] of Object.entries(CUSTOM_FORMATS)) {
      ajv.addFormat(name, { type: 'string', validate });
      expect(document.info.description).to.contain(`\`${name}\``);
    }
    ajv.addVocabulary(['x-personal', 'x-free-text', 'x-place']);
    // The document as a schema resource: every component and every inline schema compiled through it.
    ajv.addVocabulary(['openapi', 'info', 'servers', 'paths', 'components']);
    const base = 'https://ledger.test/openapi.json';
    ajv.addSchema({ ...document, $id: base });
    const names = Object.keys(document.components.schemas);
    for (const name of names) {
      expect(() => ajv.compile({ $ref: `${base}#/components/schemas/${name}` }), name).not.to.throw();
    }
    for (const [path, methods] of Object.entries(document.paths as Record<string, Record<string, any>>)) {
      for (const [method, operation] of Object.entries(methods)) {
        for (const [status, response] of Object.entries(operation.responses as Record<string, any>)) {
          for (const [type, media] of Object.entries((response.content ?? {}) as Record<string, any>)) {
            if (!media.schema) continue;
            const schema = JSON.parse(JSON.stringify(media.schema).replaceAll('"#/', `"${base}#/`));
            expect(() => ajv.compile(schema), `${method} ${path} ${status} ${type}`).not.to.throw();
          }
        }
      }
    }
    expect(names).to.include.members(['ContactView', 'PublishResult', 'Problem']);
  });

  it('answers 405 with Allow for a known path asked with another method, 404 for an unknown path', async () => {
    const wrong = await api.delete('/v1/events');
    expect(wrong.status).to.equal(405);
    expect(wrong.headers.get('allow')).to.equal('POST');
    const contact = await api.delete('/v1/contacts/C-1');
    expect(contact.status).to.equal(405);
    expect(contact.headers.get('allow')).to.equal('GET, HEAD');
    expect(wrong.type).to.contain('application/problem+json');
    expect((await api.get('/v1/nothing-here')).status).to.equal(404);
  });

  it("takes the catalog's event schemas as its request schemas, every upstream type and no ledger-only one", () => {
    const upstream = EVENT_TYPES.filter((type) => catalog[type].origin === 'upstream');
    expect(
      Object.keys(document.components.schemas)
        .filter((name) => name.endsWith('Event'))
        .sort(),
    ).to.deep.equal(upstream.map((type) => `${type}Event`).sort());
    for (const type of upstream) {
      expect(document.components.schemas[`${type}Event`].properties.data, type).to.deep.equal(
        documentSchema(catalog[type].schema),
      );
    }
  });

  it('its envelope schemas accept what the API accepts and refuse what it refuses', () => {
    const check = validatorFor(eventSchemas()['ContactRegisteredEvent']!);
    expect(check(registered(person()))).to.equal(true);
    expect(check({ ...registered(person()), data: { role: 'individual', shoeSize: 44 } })).to.equal(false);
  });
});
