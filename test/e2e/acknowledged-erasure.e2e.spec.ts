import { expect } from 'chai';
import { tempDataDir } from '../support/ledger.js';
import { startServer, type RunningServer } from '../support/server.js';
import { startReceiver, until } from '../support/receiver.js';
import { runCli } from '../support/cli.js';

/**
 * Acknowledged erasure as a downstream system lives it (issue 27): `ledger serve` sends it the
 * forgetting; it erases its copy and acknowledges with its own subscriber key (from `ledger keys
 * create`), naming the message's webhook-id; the erasure request is done only then.
 */
describe('serve: a webhook subscriber acknowledges the erasure it was sent', function () {
  this.timeout(120_000);
  const data = tempDataDir();
  let server: RunningServer | null = null;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  before(async () => (receiver = await startReceiver()));
  after(async () => {
    await server?.stop();
    await receiver.close();
    await data.remove();
  });
  const call = (key: string, method: string, path: string, body?: unknown) =>
    fetch(`${server!.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });

  it('the request awaits the subscriber until it acknowledges the message it received', async () => {
    server = await startServer(data.env);
    const admin = server.adminKey!;
    const hook = { kind: 'webhook', url: receiver.url, confirmsErasure: true };
    expect((await call(admin, 'PUT', '/v1/subscribers/crm', hook)).status).to.equal(201);
    const created = runCli(['keys', 'create', '--role', 'subscriber', '--subscriber', 'crm', '--json'], data.env);
    expect(created.status, created.stderr).to.equal(0);
    const { token } = JSON.parse(created.stdout) as { token: string };

    const registered = {
      type: 'ContactRegistered',
      contactId: 'C-1',
      organizationId: 'ORG-A',
      occurredAt: '2024-01-20T10:00:00Z',
      data: { role: 'individual' },
    };
    expect((await call(admin, 'POST', '/v1/events', registered)).status).to.equal(201);
    const asked = await call(admin, 'POST', '/v1/erasure-requests', { contactId: 'C-1', channel: 'email' });
    const { requestId } = (await asked.json()) as { requestId: string };
    const executed = await call(admin, 'POST', `/v1/erasure-requests/${requestId}/execute`);
    expect(await executed.json()).to.deep.include({ status: 'awaiting-confirmation' });

    await until(() => receiver.received.length === 1, 'the forgetting');
    const message = receiver.received[0]!;
    expect(JSON.parse(message.body)).to.deep.include({ type: 'ContactErased', contactId: 'C-1' });
    const acked = await call(token, 'POST', '/v1/subscribers/crm/acks', { eventId: message.headers['webhook-id'] });
    expect(acked.status).to.equal(201);

    const request = (await (await call(admin, 'GET', `/v1/erasure-requests/${requestId}`)).json()) as {
      status: string;
      downstream: Array<{ subscriber: string; status: string }>;
    };
    expect(request.status).to.equal('done');
    expect(request.downstream).to.have.length(1);
    expect(request.downstream[0]).to.deep.include({ subscriber: 'crm', status: 'confirmed' });
  });
});
