import { expect } from 'chai';
import { request as httpRequest } from 'node:http';
import { declaredRoutes } from '../support/routes.js';
import { openTestLedger, tempDataDir, type TestLedger } from '../support/ledger.js';
import { startApi, type Api } from '../support/http.js';
import { startServer } from '../support/server.js';
import { runCli } from '../support/cli.js';
import { configureTestPurposes, person, registered } from '../support/events.js';
import { issueConsentLink } from '../../src/app/consent-links.js';
import { publish } from '../../src/app/publish.js';
import { issueApiKey, issueFirstAdminKey } from '../../src/app/issue-api-key.js';
import { listApiKeys } from '../../src/app/list-api-keys.js';
import { ConcurrencyConflict } from '../../src/domain/errors.js';
import { revokeApiKey } from '../../src/app/revoke-api-key.js';
import { executeErasure, requestErasure } from '../../src/app/erasure-requests.js';
import { configureSubscriber } from '../../src/app/subscribers.js';
import { ROLES, type Role } from '../../src/domain/api-keys.js';
import { createApp } from '../../src/api/app.js';
import { createLogger } from '../../src/log.js';

const p = person();
/** Every route of the app, the role it needs (DESIGN.md "Interfaces"), and a request it answers with 2xx. */
type Send = string | ((ledger: TestLedger) => Promise<string>);
/** A new prospect's pending erasure request, for the routes that close one. */
const pendingRequest = async (ledger: TestLedger) => {
  const q = person();
  await publish(ledger, registered(q));
  return (await requestErasure(ledger, { contactId: q.contactId, channel: 'email' })).requestId;
};
const linkOf = async (ledger: TestLedger) => (await issueConsentLink(ledger, p.contactId)).path;
/** The subscriber the matrix's subscriber key is bound to, and the last forgetting made for it to acknowledge. */
const BOUND = 'matrix';
let forgettingId = '';
const newForgetting = async (ledger: TestLedger) => {
  forgettingId = (await executeErasure(ledger, await pendingRequest(ledger))).forgettingEvent.id;
  return `/v1/subscribers/${BOUND}/acks`;
};
/** An executed request whose keys are destroyed: one that has a certificate. */
const certifiableRequest = async (ledger: TestLedger) => {
  const requestId = await pendingRequest(ledger);
  const { forgettingEvent } = await executeErasure(ledger, requestId);
  await ledger.shredder.shredFor((await ledger.store.readEvent(forgettingEvent.id))!);
  return requestId;
};
const ROUTES: Array<{
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  role: Role | null;
  send: Send;
  body?: () => unknown;
}> = [
  { method: 'GET', path: '/health', role: null, send: '/health' },
  { method: 'GET', path: '/metrics', role: null, send: '/metrics' },
  { method: 'GET', path: '/openapi.json', role: null, send: '/openapi.json' },
  {
    method: 'POST',
    path: '/v1/events',
    role: 'publisher',
    send: '/v1/events',
    body: () => registered(person()),
  },
  {
    method: 'POST',
    path: '/v1/text-guard',
    role: 'operator',
    send: '/v1/text-guard',
    body: () => ({ text: 'Prefers aisle seats' }),
  },
  { method: 'GET', path: '/v1/recency', role: 'batch', send: '/v1/recency?before=2030-01-01' },
  { method: 'GET', path: '/v1/contacts', role: 'operator', send: `/v1/contacts?email=${p.email}` },
  { method: 'GET', path: '/v1/contacts/:contactId', role: 'operator', send: `/v1/contacts/${p.contactId}` },
  {
    method: 'GET',
    path: '/v1/contacts/:contactId/events',
    role: 'operator',
    send: `/v1/contacts/${p.contactId}/events`,
  },
  {
    method: 'GET',
    path: '/v1/contacts/:contactId/export',
    role: 'operator',
    send: `/v1/contacts/${p.contactId}/export`,
  },
  { method: 'GET', path: '/v1/audit/events', role: 'auditor', send: '/v1/audit/events?limit=10' },
  { method: 'GET', path: '/v1/audit/verify', role: 'auditor', send: '/v1/audit/verify' },
  { method: 'GET', path: '/v1/audit/checkpoint', role: 'auditor', send: '/v1/audit/checkpoint' },
  {
    method: 'PUT',
    path: '/v1/purposes/:code',
    role: 'admin',
    send: '/v1/purposes/newsletter',
    body: () => ({ kind: 'consent', channel: 'email', expiryDays: 730 }),
  },
  { method: 'GET', path: '/v1/purposes', role: 'operator', send: '/v1/purposes' },
  {
    method: 'PUT',
    path: '/v1/schedules/:job',
    role: 'admin',
    send: '/v1/schedules/consent-expiry',
    body: () => ({ cron: '0 1 * * *' }),
  },
  { method: 'DELETE', path: '/v1/schedules/:job', role: 'admin', send: '/v1/schedules/consent-expiry' },
  { method: 'GET', path: '/v1/schedules', role: 'batch', send: '/v1/schedules' },
  {
    method: 'PUT',
    path: '/v1/subscribers/:name',
    role: 'admin',
    send: '/v1/subscribers/crm',
    body: () => ({ kind: 'webhook', url: 'https://crm.example.org/hook' }),
  },
  { method: 'GET', path: '/v1/subscribers', role: 'admin', send: '/v1/subscribers' },
  {
    method: 'GET',
    path: '/v1/subscribers/:name/dead-letters',
    role: 'admin',
    send: '/v1/subscribers/crm/dead-letters',
  },
  {
    method: 'POST',
    path: '/v1/subscribers/:name/dead-letters/replay',
    role: 'admin',
    send: '/v1/subscribers/crm/dead-letters/replay',
    body: () => ({}),
  },
  {
    method: 'POST',
    path: '/v1/subscribers/:name/secret/rotate',
    role: 'admin',
    send: '/v1/subscribers/crm/secret/rotate',
    body: () => ({}),
  },
  { method: 'DELETE', path: '/v1/subscribers/:name', role: 'admin', send: '/v1/subscribers/crm' },
  {
    method: 'POST',
    path: '/v1/subscribers/:name/acks',
    role: 'subscriber',
    send: newForgetting,
    body: () => ({ eventId: forgettingId }),
  },
  {
    method: 'POST',
    path: '/v1/contacts/:contactId/consent-link',
    role: 'operator',
    send: `/v1/contacts/${p.contactId}/consent-link`,
    body: () => ({}),
  },
  {
    method: 'POST',
    path: '/v1/contacts/:contactId/privacy-link',
    role: 'operator',
    send: `/v1/contacts/${p.contactId}/privacy-link`,
    body: () => ({}),
  },
  // The person's link: no key, whoever calls (the token is the proof).
  { method: 'GET', path: '/v1/consent-links/:token', role: null, send: (ledger) => linkOf(ledger) },
  {
    method: 'POST',
    path: '/v1/consent-links/:token',
    role: null,
    send: (ledger) => linkOf(ledger),
    body: () => ({ purpose: 'newsletter', answer: 'no' }),
  },
  {
    method: 'POST',
    path: '/v1/consents/expire',
    role: 'batch',
    send: '/v1/consents/expire',
    body: () => ({}),
  },
  {
    method: 'POST',
    path: '/v1/targeting',
    role: 'operator',
    send: '/v1/targeting',
    body: () => ({ campaignType: 'marketing', channel: 'email' }),
  },
  {
    method: 'POST',
    path: '/v1/batches/inactive-contacts',
    role: 'batch',
    send: '/v1/batches/inactive-contacts',
    body: () => ({ inactivityMonths: 36 }),
  },
  {
    method: 'POST',
    path: '/v1/erasure-requests',
    role: 'operator',
    send: '/v1/erasure-requests',
    body: () => ({ contactId: p.contactId, channel: 'email' }),
  },
  { method: 'GET', path: '/v1/erasure-requests', role: 'operator', send: '/v1/erasure-requests?status=pending' },
  {
    method: 'GET',
    path: '/v1/erasure-requests/:requestId',
    role: 'operator',
    send: async (ledger) => `/v1/erasure-requests/${await pendingRequest(ledger)}`,
  },
  {
    method: 'GET',
    path: '/v1/erasure-requests/:requestId/certificate',
    role: 'operator',
    send: async (ledger) => `/v1/erasure-requests/${await certifiableRequest(ledger)}/certificate`,
  },
  {
    method: 'POST',
    path: '/v1/erasure-requests/:requestId/execute',
    role: 'operator',
    send: async (ledger) => `/v1/erasure-requests/${await pendingRequest(ledger)}/execute`,
    body: () => ({}),
  },
  {
    method: 'POST',
    path: '/v1/erasure-requests/:requestId/refuse',
    role: 'operator',
    send: async (ledger) => `/v1/erasure-requests/${await pendingRequest(ledger)}/refuse`,
    body: () => ({ reason: 'identity-not-verified' }),
  },
];

describe('API keys and roles', function () {
  this.timeout(120_000);

  describe('role × route matrix (in-process app, real ledger)', () => {
    let ledger: TestLedger;
    let api: Api;
    const keys = new Map<string, string>();
    before(async () => {
      ledger = await openTestLedger();
      api = await startApi(ledger);
      await configureTestPurposes(ledger);
      await publish(ledger, registered(p));
      await ledger.runner.catchUp();
      await configureSubscriber(ledger, BOUND, { kind: 'nats', subject: BOUND, confirmsErasure: true });
      for (const role of ROLES) {
        const bound = role === 'subscriber' ? { subscriber: BOUND } : {};
        keys.set(role, (await issueApiKey(ledger, { role, name: `matrix-${role}`, ...bound })).token);
      }
      const revoked = await issueApiKey(ledger, { role: 'admin', name: 'matrix-revoked' });
      await revokeApiKey(ledger, revoked.keyId);
      keys.set('revoked admin', revoked.token);
      // A well-formed key of the right shape that was never issued, and one with a wrong secret.
      keys.set('never issued', `cl_K-000000000000_${'A'.repeat(43)}`);
      keys.set('wrong secret', keys.get('admin')!.replace(/.{4}$/, 'AAAA'));
      keys.set('not a key', 'hunter2');
    });
    after(async () => {
      await api.close();
      await ledger.dispose();
    });

    it('lists every route of the app', () => {
      const app = createApp(ledger, createLogger('silent'), { maxBodyBytes: 1024, allowedHosts: ['localhost'] });
      expect(declaredRoutes(app).sort()).to.deep.equal(ROUTES.map((r) => `${r.method.toLowerCase()} ${r.path}`).sort());
    });

    const callers = [...ROLES, 'no key', 'revoked admin', 'never issued', 'wrong secret', 'not a key'];
    for (const route of ROUTES) {
      for (const caller of callers) {
        const expected =
          route.role === null
            ? 'ok'
            : ROLES.includes(caller as Role)
              ? caller === route.role || caller === 'admin'
                ? 'ok'
                : 403
              : 401;
        it(`${route.method} ${route.path} with ${caller}: ${expected}`, async () => {
          const headers: Record<string, string> = {
            authorization: caller === 'no key' ? '' : `Bearer ${keys.get(caller)}`,
          };
          const path = typeof route.send === 'string' ? route.send : await route.send(ledger);
          const response =
            route.method === 'GET' || route.method === 'DELETE'
              ? await api[route.method === 'GET' ? 'get' : 'delete'](path, headers)
              : await api[route.method === 'PUT' ? 'put' : 'post'](path, route.body!(), headers);
          if (expected === 'ok') {
            expect(response.status, response.text).to.be.within(200, 299);
            return;
          }
          expect(response.status).to.equal(expected);
          expect(response.type).to.match(/^application\/problem\+json/);
          expect(response.body.status).to.equal(expected);
          if (expected === 401) expect(response.headers.get('www-authenticate')).to.equal('Bearer');
          // The problem never echoes what was sent.
          expect(response.text).not.to.contain(keys.get(caller) ?? 'no key sent');
        });
      }
    }

    it('refuses a Host that is not one of its names (421), so a rebound DNS name cannot reach it', async () => {
      const { port } = new URL(api.url);
      const answer = (host: string) =>
        new Promise<{ status: number; type: string }>((resolve, reject) => {
          const sent = httpRequest({ host: '127.0.0.1', port, path: '/health', headers: { host } }, (response) => {
            response.resume();
            resolve({ status: response.statusCode ?? 0, type: response.headers['content-type'] ?? '' });
          });
          sent.on('error', reject);
          sent.end();
        });
      expect(await answer('attacker.example')).to.deep.include({ status: 421 });
      expect((await answer('attacker.example:8080')).type).to.match(/problem\+json/);
      expect((await answer(`localhost:${port}`)).status).to.equal(200);
      expect((await answer(`127.0.0.1:${port}`)).status).to.equal(200);
    });

    it('sends security headers and no CORS header', async () => {
      const response = await api.get(`/v1/contacts/${p.contactId}`, { origin: 'https://attacker.example' });
      expect(response.headers.get('x-content-type-options')).to.equal('nosniff');
      expect(response.headers.get('content-security-policy')).to.be.a('string');
      expect(response.headers.get('access-control-allow-origin')).to.equal(null);
    });
  });

  it('two first starts at once issue one admin key: the other sees it, or its append conflicts', async () => {
    const ledger = await openTestLedger();
    try {
      const outcomes = await Promise.allSettled([issueFirstAdminKey(ledger), issueFirstAdminKey(ledger)]);
      const issued = outcomes.filter((outcome) => outcome.status === 'fulfilled' && outcome.value !== null);
      expect(issued).to.have.length(1);
      for (const outcome of outcomes.filter((o) => !issued.includes(o))) {
        if (outcome.status === 'rejected') expect(outcome.reason).to.be.instanceOf(ConcurrencyConflict);
        else expect(outcome.value).to.equal(null);
      }
      expect(await listApiKeys(ledger)).to.have.length(1);
      expect(await issueFirstAdminKey(ledger)).to.equal(null);
    } finally {
      await ledger.dispose();
    }
  });

  describe('keys from the CLI, on a running server (separate processes)', () => {
    const data = tempDataDir();
    after(() => data.remove());

    it(
      'prints one admin key on the first start only; a key ' + 'created or revoked by the CLI works or stops at once',
      async () => {
        const first = await startServer(data.env);
        try {
          expect(first.adminKey).to.be.a('string');
          // Once more if the idle connection the client reused was closed by the server meanwhile (a
          // CLI call can outlast its keep-alive): a server that died would refuse the second try too.
          const get = async (path: string, key: string | null) => {
            const send = () => fetch(`${first.url}${path}`, { headers: key ? { authorization: `Bearer ${key}` } : {} });
            return send().catch(send);
          };
          expect((await get('/v1/recency?before=2030-01-01', first.adminKey)).status).to.equal(200);

          const created = runCli(['keys', 'create', '--role', 'batch', '--name', 'nightly-batch'], data.env);
          expect(created.status, created.stderr).to.equal(0);
          const [, keyId, token] = /^(K-[0-9a-f]{12}) \(batch\): (\S+)$/m.exec(created.stdout)!;
          expect((await get('/v1/recency?before=2030-01-01', token!)).status).to.equal(200);
          expect((await get(`/v1/contacts/${p.contactId}`, token!)).status).to.equal(403);

          const listed = runCli(['keys', 'list', '--json'], data.env);
          const keys = JSON.parse(listed.stdout) as Array<Record<string, unknown>>;
          expect(keys.map((key) => [key['role'], key['name'], key['revokedAt']])).to.deep.equal([
            ['admin', 'first-admin', null],
            ['batch', 'nightly-batch', null],
          ]);
          expect(listed.stdout).not.to.contain(token!.slice(-43));

          expect(runCli(['keys', 'revoke', keyId!], data.env).stdout).to.match(/revoked/);
          expect((await get('/v1/recency?before=2030-01-01', token!)).status).to.equal(401);
          expect(runCli(['keys', 'revoke', keyId!], data.env).stdout).to.match(/already revoked/);
          const unknown = runCli(['keys', 'revoke', 'K-000000000000'], data.env);
          expect([unknown.status, unknown.stderr]).to.deep.equal([2, 'ledger: no API key K-000000000000\n']);
          const badRole = runCli(['keys', 'create', '--role', 'root'], data.env);
          expect(badRole.status).to.equal(1);
          expect(badRole.stderr).to.match(/Allowed choices are publisher, operator, auditor, batch, subscriber, admin/);
        } finally {
          await first.stop();
        }
        const second = await startServer(data.env);
        await second.stop();
        expect(second.adminKey).to.equal(null);
        expect(second.logs()).not.to.contain(first.adminKey!);
      },
    );
  });
});
