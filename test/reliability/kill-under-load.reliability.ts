import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';
import { startServer, type RunningServer } from '../support/server.js';
import { tempDataDir } from '../support/ledger.js';
import { runCli } from '../support/cli.js';

/**
 * SIGKILL of the server at random moments under a sustained publish load (issue 16): after each
 * restart, every acknowledged event is in the log and the hash chains verify.
 */
describe('SIGKILL of the server under a publish load, three rounds', function () {
  this.timeout(300_000);
  const data = tempDataDir();
  after(() => data.remove());

  const batch = () => {
    const contactId = `C-${randomBytes(5).toString('hex')}`;
    const base = { contactId, organizationId: 'ORG-A', occurredAt: '2025-01-01T10:00:00Z' };
    return [
      {
        ...base,
        id: uuidv7(),
        type: 'ContactRegistered',
        data: { role: 'individual', email: `${contactId}@example.org` },
      },
      { ...base, id: uuidv7(), type: 'NoteAdded', data: { noteId: 'N-1', text: 'called back about the season' } },
    ];
  };

  it('loses no acknowledged event and leaves every chain whole', async () => {
    const acknowledged: string[] = [];
    let adminKey: string | null = null;
    for (let round = 0; round < 3; round++) {
      const server: RunningServer = await startServer(data.env);
      adminKey ??= server.adminKey;
      let publishing = true;
      const publisher = async () => {
        while (publishing) {
          const events = batch();
          try {
            const response = await fetch(`${server.url}/v1/events`, {
              method: 'POST',
              headers: { 'content-type': 'application/json', authorization: `Bearer ${adminKey}` },
              body: JSON.stringify({ events }),
            });
            await response.text();
            if (response.status === 201) acknowledged.push(...events.map((event) => event.id));
          } catch {
            return; // the server is gone: what it did not acknowledge may or may not be stored
          }
        }
      };
      const publishers = Array.from({ length: 4 }, publisher);
      await new Promise((resolve) => setTimeout(resolve, 300 + Math.random() * 1500));
      await server.kill('SIGKILL');
      publishing = false;
      await Promise.all(publishers);
    }
    expect(acknowledged.length, 'events acknowledged before the kills').to.be.above(0);

    const verified = runCli(['audit', 'verify'], data.env);
    expect(verified.status, verified.stdout + verified.stderr).to.equal(0);
    expect(verified.stdout).to.match(/^OK: /);
    const server = await startServer(data.env);
    try {
      const stored = new Set<string>();
      for (let from = 0; ;) {
        const page = await fetch(`${server.url}/v1/audit/events?from=${from}&limit=100000`, {
          headers: { authorization: `Bearer ${adminKey}` },
        }).then((response) => response.text());
        const records = page
          .split('\n')
          .filter(Boolean)
          .map((line) => JSON.parse(line) as { id: string; position: number });
        if (records.length === 0) break;
        for (const record of records) stored.add(record.id);
        from = records.at(-1)!.position;
      }
      const lost = acknowledged.filter((id) => !stored.has(id));
      expect(lost, 'acknowledged events missing after the kills').to.deep.equal([]);
    } finally {
      await server.stop();
    }
  });
});
