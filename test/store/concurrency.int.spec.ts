import { verifyChains } from '../../src/app/verify-chains.js';
import { publish } from '../../src/app/publish.js';
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { openTestLedger, type TestLedger } from '../support/ledger.js';
import { person, registered } from '../support/events.js';

const worker = fileURLToPath(new URL('../support/publish-worker.ts', import.meta.url));

function runWorker(
  env: NodeJS.ProcessEnv,
  startAt: number,
  bodies: unknown[],
): Promise<Array<{ ok: boolean; error?: string; appended?: number }>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', worker, String(startAt), JSON.stringify(bodies)], {
      env,
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.stderr.on('data', (chunk) => (err += chunk));
    child.on('exit', (code) =>
      code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`worker exited ${code}: ${err}`)),
    );
  });
}

const note = (contactId: string, extra: Record<string, unknown> = {}) => ({
  id: randomUUID(),
  type: 'NoteAdded',
  contactId,
  organizationId: 'ORG-A',
  occurredAt: '2026-01-01T00:00:00Z',
  data: { noteId: `N-${randomUUID()}`, text: 'called back' },
  ...extra,
});

describe('concurrent writers on one events.db (separate processes)', function () {
  this.timeout(120_000);
  let ledger: TestLedger;
  beforeEach(async () => (ledger = await openTestLedger()));
  afterEach(() => ledger.dispose());

  it(
    'with the same expectedRevision: exactly one wins, ' + 'the others get conflicts, nothing lost or duplicated',
    async () => {
      const p = person();
      await publish(ledger, registered(p));
      const startAt = Date.now() + 4000;
      const results = await Promise.all(
        Array.from({ length: 6 }, () => runWorker(ledger.env, startAt, [note(p.contactId, { expectedRevision: 0 })])),
      );
      const outcomes = results.flat();
      expect(outcomes.filter((o) => o.ok)).to.have.length(1);
      expect(outcomes.filter((o) => !o.ok).map((o) => o.error)).to.deep.equal(Array(5).fill('ConcurrencyConflict'));
      const stream = await ledger.store.readStream(`contact-${p.contactId}`);
      expect(stream.map((e) => e.revision)).to.deep.equal([0, 1]);
      expect((await verifyChains(ledger)).ok).to.equal(true);
    },
  );

  it(
    'without expectedRevision: every batch of every writer ' + 'lands once, revisions and positions without gaps',
    async () => {
      const contacts = ['C-shared', 'C-x', 'C-y'];
      const startAt = Date.now() + 4000;
      const perWorker = (w: number) =>
        Array.from({ length: 10 }, (_, b) => ({
          events: Array.from({ length: 20 }, (_, i) => note(contacts[(w + b + i) % contacts.length]!)),
        }));
      const bodies = Array.from({ length: 4 }, (_, w) => perWorker(w));
      const results = await Promise.all(bodies.map((b) => runWorker(ledger.env, startAt, b)));
      const failed = results.flat().filter((o) => !(o.ok && o.appended === 20));
      expect(failed, JSON.stringify(failed)).to.deep.equal([]);
      const all = await ledger.store.readAll({ limit: 10_000 });
      expect(all.map((e) => e.position)).to.deep.equal(Array.from({ length: 800 }, (_, i) => i + 1));
      const ids = new Set(all.map((e) => e.id));
      expect(ids.size).to.equal(800);
      const published = new Set<string>(bodies.flat().flatMap((b) => b.events.map((e) => e.id)));
      expect([...ids].every((id) => published.has(id))).to.equal(true);
      for (const contactId of contacts) {
        const revisions = (await ledger.store.readStream(`contact-${contactId}`)).map((e) => e.revision);
        expect(revisions).to.deep.equal(revisions.map((_, i) => i));
      }
      expect(await verifyChains(ledger)).to.include({ ok: true, events: 800 });
    },
  );
});
