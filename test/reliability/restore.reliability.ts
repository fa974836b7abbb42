import { expect } from 'chai';
import { copyFileSync, existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, type RunningServer } from '../support/server.js';
import { tempDataDir } from '../support/ledger.js';

/**
 * events.db restored from an older copy beside a state.db folded further (issue 24, finding 1):
 * the read models' checkpoint is beyond the log's head. Catching up from there skipped every
 * event published after the restore; now the ledger rebuilds the read models at start, or
 * refuses to start, and /health says which.
 */
describe('a log restored from an older copy', function () {
  this.timeout(120_000);
  const data = tempDataDir();
  let server: RunningServer | null = null;
  /** The admin key the first start printed (later starts print none). */
  let adminKey: string | null = null;

  after(async () => {
    await server?.stop();
    await data.remove();
  });

  const register = (contactId: string, email: string) => ({
    type: 'ContactRegistered',
    contactId,
    organizationId: 'ORG-A',
    occurredAt: '2025-01-01T10:00:00Z',
    data: { role: 'individual', firstName: 'Ana', email },
  });
  const call = async (path: string, init: RequestInit = {}) => {
    const response = await fetch(`${server!.url}${path}`, {
      ...init,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${adminKey}`, ...init.headers },
    });
    return { status: response.status, body: (await response.json()) as Record<string, any> };
  };
  const publish = (events: unknown[]) => call('/v1/events', { method: 'POST', body: JSON.stringify({ events }) });
  const caughtUp = async () => {
    for (let tries = 0; tries < 100; tries++) {
      const health = await call('/health');
      if (health.body['projection']?.lag === 0) return health;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error('the read models never caught up');
  };
  const lookUp = async (email: string) => (await call(`/v1/contacts?email=${encodeURIComponent(email)}`)).body;

  it('rebuilds the read models at start; what is published after the restore reaches them', async () => {
    server = await startServer(data.env);
    adminKey = server.adminKey;
    expect((await publish([register('C-1', 'one@example.org')])).status).to.equal(201);
    const backedUp = (await caughtUp()).body['projection'].head;
    await server.stop();
    // A backup of the log alone (the embedded ledger stopped), then more events, then the restore.
    copyFileSync(join(data.dir, 'events.db'), join(data.dir, 'events.backup.db'));
    server = await startServer(data.env);
    const later = [register('C-2', 'two@example.org'), register('C-3', 'three@example.org')];
    expect((await publish(later)).status).to.equal(201);
    const folded = (await caughtUp()).body['projection'].head;
    await server.stop();
    for (const suffix of ['', '-wal', '-shm']) rmSync(join(data.dir, `events.db${suffix}`), { force: true });
    copyFileSync(join(data.dir, 'events.backup.db'), join(data.dir, 'events.db'));

    server = await startServer(data.env);
    const health = await caughtUp();
    expect(health.status).to.equal(200);
    expect(health.body['projection'].logMismatch).to.include({
      reason: 'aheadOfLog',
      action: 'rebuilt',
      checkpoint: folded,
      head: backedUp,
    });
    expect(await publish([register('C-4', 'four@example.org')])).to.have.property('status', 201);
    await caughtUp();
    expect(await lookUp('four@example.org')).to.have.deep.property('contactIds', ['C-4']);
    expect(await lookUp('one@example.org')).to.have.deep.property('contactIds', ['C-1']);
    // Restored away: the log no longer holds them, and neither do the read models.
    expect(await lookUp('two@example.org')).to.have.deep.property('contactIds', []);
  });

  it('with LEDGER_ON_LOG_MISMATCH=refuse, refuses to start and names the rebuild command', async () => {
    await server!.stop();
    server = null;
    // The read models now hold C-4 too; the log restored again holds only C-1.
    for (const suffix of ['', '-wal', '-shm']) rmSync(join(data.dir, `events.db${suffix}`), { force: true });
    copyFileSync(join(data.dir, 'events.backup.db'), join(data.dir, 'events.db'));
    const refused = await startServer({ ...data.env, LEDGER_ON_LOG_MISMATCH: 'refuse' }).then(
      async (started) => (await started.stop(), null),
      (error: Error) => error,
    );
    expect(refused?.message).to.match(/beyond the log's head \d+.*ledger projections rebuild/s);
  });

  it('a log without its key database refuses to start, naming keys.db; with it restored, all reads back', async () => {
    const keysFiles = ['', '-wal', '-shm'].map((suffix) => join(data.dir, `keys.db${suffix}`));
    copyFileSync(join(data.dir, 'keys.db'), join(data.dir, 'keys.backup.db'));
    for (const file of keysFiles) rmSync(file, { force: true });
    const refused = await startServer(data.env).then(
      async (started) => (await started.stop(), null),
      (error: Error) => error,
    );
    expect(refused?.message).to.include(join(data.dir, 'keys.db'));
    expect(refused?.message).to.match(/holds no key: it is missing or not this ledger's/);
    expect(existsSync(keysFiles[0]!), 'no empty keys.db made in its place').to.equal(false);

    copyFileSync(join(data.dir, 'keys.backup.db'), keysFiles[0]!);
    server = await startServer(data.env);
    await caughtUp();
    expect(await lookUp('one@example.org')).to.have.deep.property('contactIds', ['C-1']);
    expect((await call('/v1/contacts/C-1')).body['details']).to.include({ email: 'one@example.org' });
  });
});
