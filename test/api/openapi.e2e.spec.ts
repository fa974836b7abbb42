import { expect } from 'chai';
import { declaredRoutes } from '../support/routes.js';
import { openTestLedger, type TestLedger } from '../support/ledger.js';
import { startApi, type Api } from '../support/http.js';
import { createApp } from '../../src/api/app.js';
import { createLogger } from '../../src/log.js';
import { catalog, EVENT_TYPES } from '../../src/domain/catalog.js';
import { validatorFor } from '../../src/domain/validation.js';
import { eventSchemas } from '../../src/api/openapi.js';
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

  it("takes the catalog's event schemas as its request schemas, every upstream type and no ledger-only one", () => {
    const upstream = EVENT_TYPES.filter((type) => catalog[type].origin === 'upstream');
    expect(
      Object.keys(document.components.schemas)
        .filter((name) => name.endsWith('Event'))
        .sort(),
    ).to.deep.equal(upstream.map((type) => `${type}Event`).sort());
    for (const type of upstream) {
      expect(document.components.schemas[`${type}Event`].properties.data, type).to.deep.equal(
        JSON.parse(JSON.stringify(catalog[type].schema)),
      );
    }
  });

  it('its envelope schemas accept what the API accepts and refuse what it refuses', () => {
    const check = validatorFor(eventSchemas()['ContactRegisteredEvent']!);
    expect(check(registered(person()))).to.equal(true);
    expect(check({ ...registered(person()), data: { role: 'individual', shoeSize: 44 } })).to.equal(false);
  });
});
