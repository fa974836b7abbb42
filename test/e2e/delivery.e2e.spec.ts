import { expect } from 'chai';
import { tempDataDir } from '../support/ledger.js';
import { startServer, type RunningServer } from '../support/server.js';
import { startReceiver, until } from '../support/receiver.js';
import { verifyWebhook } from '../../src/crypto/webhook-signature.js';

/**
 * `ledger serve` delivers to a webhook subscriber (issue 27): configured over the API, signed
 * with the secret the PUT showed once; killed (SIGKILL) while the receiver is down, the restarted
 * ledger delivers what it had not: nothing lost. Neither the secret nor the url's query is logged.
 */
describe('serve: delivery to a webhook subscriber', function () {
  this.timeout(120_000);
  const data = tempDataDir();
  let server: RunningServer | null = null;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let adminKey = '';
  before(async () => (receiver = await startReceiver()));
  after(async () => {
    await server?.stop();
    await receiver.close();
    await data.remove();
  });
  const call = (method: string, path: string, body?: unknown) =>
    fetch(`${server!.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  const restriction = (contactId: string, type: string) => ({
    type,
    contactId,
    organizationId: 'ORG-A',
    occurredAt: '2024-01-20T10:00:00Z',
    data: { reason: 'objection' },
  });

  it('delivers, signed; a SIGKILL while the receiver is down loses nothing', async () => {
    server = await startServer({ ...data.env, LEDGER_DELIVERY_ATTEMPTS: '1000' });
    adminKey = server.adminKey!;
    const configured = await call('PUT', '/v1/subscribers/crm', { kind: 'webhook', url: receiver.url });
    expect(configured.status).to.equal(201);
    const { secret } = (await configured.json()) as { secret: string };
    const published = await call('POST', '/v1/events', {
      events: [
        { ...restriction('C-1', 'ContactRegistered'), data: { role: 'individual' } },
        restriction('C-1', 'ProcessingRestricted'),
      ],
    });
    expect(published.status).to.equal(201);
    await until(() => receiver.received.length === 1, 'the restriction');
    const [first] = receiver.received;
    expect(verifyWebhook(secret, first!.headers as Record<string, string>, first!.body, new Date())).to.equal(true);
    expect(JSON.parse(first!.body)).to.deep.include({ type: 'ProcessingRestricted', contactId: 'C-1' });

    receiver.status = 503;
    const attempts = receiver.attempts;
    await call('POST', '/v1/events', restriction('C-1', 'RestrictionLifted'));
    await until(() => receiver.attempts > attempts, 'an attempt while the receiver is down');
    await server.kill('SIGKILL');
    receiver.status = 200;
    const logs = server.logs();
    server = await startServer({ ...data.env, LEDGER_DELIVERY_ATTEMPTS: '1000' });
    await until(() => receiver.received.length === 2, 'the message not delivered before the kill');
    expect(JSON.parse(receiver.received[1]!.body)).to.deep.include({ type: 'RestrictionLifted', contactId: 'C-1' });
    for (const log of [logs, server.logs()]) {
      expect(log).to.not.include(secret.slice(6, 30)).and.not.include('t0k3n');
    }
  });
});
