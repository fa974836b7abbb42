import { expect } from 'chai';
import express from 'express';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { Type } from '@sinclair/typebox';
import { route, type ApiLedger, type RouteContext } from '../../src/api/route.js';
import { wireRoutes } from '../../src/api/wiring.js';
import { problemHandler } from '../../src/api/problem.js';
import { createLogger } from '../../src/log.js';

/**
 * The test-mode check of answers against the API document (LEDGER_VALIDATE_RESPONSES), on a
 * route table of its own whose handlers answer what their schemas refuse.
 */
describe('answers checked against the document (test mode)', () => {
  const SECRET = 'jeanne.martin@example.org';
  const Answer = Type.Object({ contactId: Type.String(), count: Type.Integer() }, { additionalProperties: false });
  const answering = (path: string, status: number, body: unknown) =>
    route({
      method: 'get',
      path,
      operationId: path.slice(1),
      summary: path,
      access: 'open',
      responses: { 200: { description: 'an answer', schema: Answer } },
      handle({ res }) {
        res.status(status).json(body);
      },
    });
  let server: Server;
  let url: string;
  before(async () => {
    const app = express();
    const context: RouteContext = {
      ledger: {} as ApiLedger,
      options: { maxBodyBytes: 1024, allowedHosts: ['127.0.0.1'], validateResponses: true },
      log: createLogger('silent'),
      document: () => ({}),
      publicUrl: 'http://localhost:8080',
      institution: { name: null, privacyPolicyUrl: null },
    };
    wireRoutes(
      app,
      [
        answering('/as-documented', 200, { contactId: 'C-1', count: 2 }),
        answering('/field-missing', 200, { contactId: 'C-1' }),
        answering('/personal-value', 200, { contactId: 'C-1', count: SECRET }),
        answering('/field-unknown', 200, { contactId: 'C-1', count: 2, email: SECRET }),
        answering('/status-unknown', 418, { contactId: 'C-1', count: 2 }),
      ],
      context,
    );
    app.use(problemHandler(context.log));
    server = await new Promise((resolve) => {
      const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
    });
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise((resolve) => server.close(resolve)));

  const get = async (path: string) => {
    const response = await fetch(`${url}${path}`);
    return { status: response.status, type: response.headers.get('content-type'), text: await response.text() };
  };

  it('lets an answer its schema accepts through', async () => {
    expect(await get('/as-documented')).to.deep.include({ status: 200, text: '{"contactId":"C-1","count":2}' });
  });

  for (const [path, failure] of [
    ['/field-missing', "/ must have required property 'count' [#/required]"],
    ['/personal-value', '/count must be integer [#/properties/count/type]'],
    ['/field-unknown', '/ must NOT have additional properties (email) [#/additionalProperties]'],
    ['/status-unknown', 'status 418 is not documented (documented: 200, 421, 500, 503)'],
  ]) {
    it(`${path}: a 500 naming the route, the status and the schema path, never the value`, async () => {
      const answer = await get(path!);
      expect(answer.status).to.equal(500);
      expect(answer.type).to.match(/^application\/problem\+json/);
      const problem = JSON.parse(answer.text);
      expect(problem.type).to.equal('urn:contact-ledger:problem:response-not-as-documented');
      expect(problem.detail).to.contain(`GET ${path} answered`).and.to.contain(failure);
      expect(answer.text).not.to.contain(SECRET);
    });
  }
});
