import { publish } from '../../src/app/publish.js';
import { expect } from 'chai';
import { openTestLedger, type TestLedger } from '../support/ledger.js';
import { editLog, flipByte } from '../support/stored.js';
import { startApi } from '../support/http.js';
import { runCli } from '../support/cli.js';
import { person, registered, ticketSold } from '../support/events.js';
import { openLedger } from '../../src/app/open-ledger.js';
import { createLogger } from '../../src/log.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GENESIS_HASH, logLink } from '../../src/crypto/hash-chain.js';
import { MerkleAccumulator, type SignedCheckpoint } from '../../src/crypto/log-checkpoint.js';
import { appendSealed } from '../../src/app/append-sealed.js';
import { AUDIT_CHECKPOINTS_STREAM } from '../../src/domain/streams.js';

describe('ledger audit verify: tampering is found at the right stream and revision', function () {
  this.timeout(60_000);
  let ledger: TestLedger;
  const [a, b] = [person(), person()];
  beforeEach(async () => {
    ledger = await openTestLedger();
    await publish(ledger, {
      events: [registered(a), registered(b), ticketSold(a, 'O-1'), ticketSold(b, 'O-2'), ticketSold(a, 'O-3')],
    });
    await ledger.close();
  });
  afterEach(() => ledger.dispose());

  it('reports OK with counts on an intact log', () => {
    const result = runCli(['audit', 'verify'], ledger.env);
    expect(result.status).to.equal(0);
    expect(result.stdout.trim()).to.equal('OK: 5 events in 2 streams verified');
  });

  it('one flipped byte in the clear data of a record', async () => {
    await flipByte(ledger, `contact-${a.contactId}`, 1, 'data', (text) => text.indexOf('O-1') + 2);
    const result = runCli(['audit', 'verify', '--json'], ledger.env);
    expect(result.status).to.equal(3);
    const report = JSON.parse(result.stdout);
    expect(report.ok).to.equal(false);
    expect(report.broken).to.deep.equal([
      { stream: `contact-${a.contactId}`, revision: 1, reason: 'hash does not match the record (altered)' },
    ]);
    const human = runCli(['audit', 'verify'], ledger.env);
    expect(human.stdout).to.contain(`first at contact-${a.contactId} revision 1`);
  });

  it(
    'one flipped byte in a ciphertext: audit finds it ' + 'and opening fails with a clear error, never garbage',
    async () => {
      await flipByte(ledger, `contact-${b.contactId}`, 1, 'sealed_ciphertext', () => 20);
      const stream = runCli(['audit', 'verify', '--stream', `contact-${b.contactId}`, '--json'], ledger.env);
      expect(JSON.parse(stream.stdout).broken).to.deep.equal([
        { stream: `contact-${b.contactId}`, revision: 1, reason: 'hash does not match the record (altered)' },
      ]);
      const reopened = await openTestLedgerAt(ledger);
      const api = await startApi(reopened);
      const response = await api.get(`/v1/contacts/${b.contactId}/events`);
      expect(response.status).to.equal(500);
      expect(response.type).to.match(/problem\+json/);
      expect(response.body.title, JSON.stringify(response.body)).to.equal('Integrity failure');
      expect(response.body.detail).to.match(/failed to open/);
      expect((await api.get(`/v1/contacts/${a.contactId}/events`)).status).to.equal(200);
      await api.close();
      await reopened.close();
    },
  );

  it('a ledger made before the global chain gets it: the chain starts at its next record', async () => {
    await editLog(ledger, 'ALTER TABLE events DROP COLUMN log_hash', []);
    if (ledger.env['LEDGER_STORE'] === 'postgres') await editLog(ledger, 'ALTER TABLE head DROP COLUMN log_hash', []);
    const reopened = await openTestLedgerAt(ledger);
    const before = await reopened.store.headPosition();
    await publish(reopened, { events: [ticketSold(b, 'O-4'), ticketSold(a, 'O-5')] });
    await reopened.close();
    const result = runCli(['audit', 'verify', '--json'], ledger.env);
    expect(result.status, result.stdout).to.equal(0);
    expect(JSON.parse(result.stdout).log).to.deep.equal({ chained: 2, from: before + 1, breaks: [] });
  });

  // Issue 24, item 6: every stored column under a chain; recorded_at is under the global chain (LogVersion 2).
  describe('the time a record was recorded', () => {
    const sale = () => ({ stream: `contact-${b.contactId}`, revision: 1 }); // b's sale, position 4
    const changeRecordedAt = (position: number, to = '2020-01-01T00:00:00.000Z') =>
      editLog(ledger, 'UPDATE events SET recorded_at = ? WHERE position = ?', [to, position]);
    const verify = (...args: string[]) => runCli(['audit', 'verify', ...args], ledger.env);
    const keep = (name: string, text: string) => {
      const file = join(ledger.dir, `${name}.json`);
      writeFileSync(file, text);
      return file;
    };
    /** Reads the log (the beforeEach closed the ledger), `work` done on it first. */
    const readLog = async (work: (opened: TestLedger) => Promise<unknown> = async () => {}) => {
      const opened = await openTestLedgerAt(ledger);
      try {
        await work(opened);
        return await opened.store.readAll({ limit: 1000 });
      } finally {
        await opened.close();
      }
    };

    it('changed, is found by audit verify and by a checkpoint kept before, at its stream and position', async () => {
      const kept = keep('checkpoint', runCli(['audit', 'checkpoint'], ledger.env).stdout);
      expect(verify('--against', kept).status).to.equal(0);
      await changeRecordedAt(4);
      // The stream's chain does not cover it (the store assigns it, like the position): the log's does.
      expect(verify('--stream', sale().stream).status).to.equal(0);
      const report = JSON.parse(verify('--json').stdout);
      expect(report).to.deep.include({ ok: false, broken: [], gaps: [] });
      expect(report.log.breaks).to.deep.equal([
        {
          position: 4,
          ...sale(),
          reason:
            'the record does not follow the one before it in the log (moved, inserted or removed), ' +
            'or its recordedAt or log version changed',
        },
      ]);
      const human = verify();
      expect(human.status).to.equal(3);
      expect(human.stdout).to.include(`first at position 4 (${sale().stream} revision 1)`);
      const against = verify('--against', kept, '--json');
      expect(against.status).to.equal(3);
      const result = JSON.parse(against.stdout);
      expect(result).to.deep.include({ ok: false, signed: true, extends: false });
      expect(result.changed.map(({ reason: _, ...at }: { reason: string }) => at)).to.deep.equal([
        { position: 4, ...sale() },
      ]);
      expect(verify('--against', kept).stdout).to.include(`first at position 4 (${sale().stream} revision 1)`);
    });

    it('changed and the global chain computed again: the checkpoint the log recorded still finds it', async () => {
      expect(runCli(['audit', 'checkpoint', '--record'], ledger.env).status).to.equal(0);
      await changeRecordedAt(4);
      const records = await readLog();
      let previous = records[2]!.logHash!;
      for (const record of records.slice(3)) {
        previous = logLink(previous, record);
        await editLog(ledger, 'UPDATE events SET log_hash = ? WHERE position = ?', [previous, record.position]);
      }
      if (ledger.env['LEDGER_STORE'] === 'postgres') await editLog(ledger, 'UPDATE head SET log_hash = ?', [previous]);
      const report = JSON.parse(verify('--json').stdout);
      expect(report).to.deep.include({ ok: false, broken: [], gaps: [] });
      expect(report.log.breaks).to.deep.equal([]);
      expect(report.checkpoints.failed).to.deep.equal([{ position: 5, after: 0 }]);
    });

    it('a log written before log versions verifies as written; the records after it cover the time', async () => {
      // The log as a ledger of version 1 wrote it: a checkpoint of version 1 recorded in it (and one
      // kept outside), links of version 1 (no recordedAt), no log_version column.
      let v1Checkpoint: SignedCheckpoint | undefined;
      const old = await readLog(async (opened) => {
        const tree = new MerkleAccumulator(1);
        for (const record of await opened.store.readAll({ limit: 1000 })) tree.add(record);
        const { last: position, size } = tree;
        const time = new Date().toISOString();
        v1Checkpoint = opened.checkpointSigner.sign({ version: 1, position, size, rootHash: tree.root(), time });
        await appendSealed(opened, [
          {
            id: opened.newId(),
            type: 'AuditCheckpointRecorded',
            stream: AUDIT_CHECKPOINTS_STREAM,
            organizationId: '',
            occurredAt: time,
            data: { ...v1Checkpoint },
          },
        ]);
      });
      const kept = keep('v1-checkpoint', JSON.stringify(v1Checkpoint));
      let logHash = GENESIS_HASH;
      for (const record of old) {
        logHash = logLink(logHash, record, 1);
        await editLog(ledger, 'UPDATE events SET log_hash = ? WHERE position = ?', [logHash, record.position]);
      }
      await editLog(ledger, 'ALTER TABLE events DROP COLUMN log_version', []);
      if (ledger.env['LEDGER_STORE'] === 'postgres') await editLog(ledger, 'UPDATE head SET log_hash = ?', [logHash]);

      // Opened by this version: two more records, then a checkpoint of version 2 recorded.
      const records = await readLog((opened) =>
        publish(opened, { events: [ticketSold(b, 'O-4'), ticketSold(a, 'O-5')] }),
      );
      expect(records.map((record) => record.logVersion)).to.deep.equal([1, 1, 1, 1, 1, 1, 2, 2]);
      expect(runCli(['audit', 'checkpoint', '--record'], ledger.env).status).to.equal(0);
      const report = JSON.parse(verify('--json').stdout);
      expect(report).to.deep.include({ ok: true, log: { chained: 9, from: 1, breaks: [] } });
      expect(report.checkpoints).to.deep.equal({ verified: 2, failed: [] });
      expect(verify('--against', kept).stdout).to.include('OK: the log extends the checkpoint at position 5');

      // A record of version 1 keeps what version 1 covered: its time changed, no link breaks, and
      // the checkpoint of version 1 still holds; the one of version 2 covers it and finds it.
      await changeRecordedAt(2);
      const changed = JSON.parse(verify('--json').stdout);
      expect(changed.log.breaks).to.deep.equal([]);
      expect(changed.checkpoints).to.deep.equal({ verified: 1, failed: [{ position: 8, after: 5 }] });
      expect(verify('--against', kept).status).to.equal(0);
    });
  });
});

/** The same data directory opened again (the beforeEach closed its ledger to let the test edit files). */
async function openTestLedgerAt(ledger: TestLedger): Promise<TestLedger> {
  const opened = await openLedger(ledger.config, createLogger('silent'));
  return { ...ledger, ...opened };
}
