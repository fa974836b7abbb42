import { expect } from 'chai';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openTestLedger, type TestLedger } from '../support/ledger.js';
import { startApi, type Api } from '../support/http.js';
import { runCli } from '../support/cli.js';
import { person, registered, ticketSold } from '../support/events.js';
import { editLog, flipByte } from '../support/stored.js';
import { publish } from '../../src/app/publish.js';
import { logLink } from '../../src/crypto/hash-chain.js';

/**
 * Tamper evidence an auditor can hold (issue 16, finding 1): removals anywhere in the log, and a
 * signed checkpoint kept outside the ledger that proves the log still extends it.
 */
describe('audit: the whole log, and signed checkpoints', function () {
  this.timeout(120_000);
  let ledger: TestLedger;
  let api: Api;
  const [a, b, c] = [person(), person(), person()];
  const cli = (...args: string[]) => runCli(['audit', ...args], ledger.env);

  let base: number;
  beforeEach(async () => {
    ledger = await openTestLedger();
    api = await startApi(ledger); // its admin key is the log's first record
    base = await ledger.store.headPosition();
    // then: a, b, b's sale, c, a's sale
    await publish(ledger, { events: [registered(a), registered(b), ticketSold(b, 'O-1'), registered(c)] });
    await publish(ledger, ticketSold(a, 'O-2'));
  });
  afterEach(async () => {
    await api.close();
    await ledger.dispose();
  });

  it('finds the last event of a stream removed from the middle of the log, at its position', async () => {
    expect(cli('verify').stdout).to.match(/^OK: /);
    const removed = base + 3; // b's last event
    await editLog(ledger, 'DELETE FROM events WHERE position = ?', [removed]);
    const verified = cli('verify', '--json');
    expect(verified.status).to.equal(3);
    const report = JSON.parse(verified.stdout);
    expect(report.gaps).to.deep.equal([{ from: removed, to: removed }]);
    expect(report.log.breaks.map((link: { position: number }) => link.position)).to.deep.equal([removed + 1]);
    expect(cli('verify').stdout).to.include(`positions ${removed} – ${removed} missing`);
  });

  it('finds a whole stream removed', async () => {
    await editLog(ledger, 'DELETE FROM events WHERE stream = ?', [`contact-${c.contactId}`]);
    const report = JSON.parse(cli('verify', '--json').stdout);
    expect(report.ok).to.equal(false);
    expect(report.gaps).to.deep.equal([{ from: base + 4, to: base + 4 }]);
    expect(report.log.breaks.map((link: { position: number }) => link.position)).to.deep.equal([base + 5]);
  });

  it('a checkpoint kept outside proves the log still extends it; the last records removed are found', async () => {
    const checkpoint = (await api.get('/v1/audit/checkpoint')).body;
    const head = base + 5;
    expect(checkpoint).to.include({ version: 2, position: head, size: head });
    expect(checkpoint.signature).to.be.a('string');
    const kept = join(ledger.dir, '..', `checkpoint-${c.contactId}.json`);
    writeFileSync(kept, JSON.stringify(checkpoint));
    const publicKey = join(ledger.dir, '..', `public-${c.contactId}.pem`);
    writeFileSync(publicKey, cli('public-key').stdout);

    // More events later: the log still extends the checkpoint.
    await publish(ledger, registered(person()));
    const later = cli('verify', '--against', kept, '--public-key', publicKey);
    expect(later.status, later.stderr).to.equal(0);
    expect(later.stdout).to.include(`OK: the log extends the checkpoint at position ${head} (${head} records)`);

    // The last record of the log before the checkpoint removed: no gap shows it, the checkpoint does.
    await editLog(ledger, 'DELETE FROM events WHERE position >= ?', [head]);
    expect(cli('verify').status).to.equal(0);
    const broken = cli('verify', '--against', kept, '--public-key', publicKey, '--json');
    expect(broken.status).to.equal(3);
    expect(JSON.parse(broken.stdout)).to.deep.include({ ok: false, signed: true, extends: false });
  });

  it('a checkpoint recorded in the log itself covers the records before it', async () => {
    const recorded = cli('checkpoint', '--record');
    expect(recorded.status, recorded.stderr).to.equal(0);
    const checkpoint = JSON.parse(recorded.stdout);
    const [event] = await ledger.store.readStream('audit-checkpoints');
    expect(event).to.deep.include({ type: 'AuditCheckpointRecorded', data: checkpoint });
    expect(event!.position).to.equal(checkpoint.position + 1);
    const kept = join(ledger.dir, '..', `recorded-${b.contactId}.json`);
    writeFileSync(kept, JSON.stringify(event!.data));
    expect(cli('verify', '--against', kept).status).to.equal(0);
    expect(cli('verify').stdout).to.match(/^OK: /);
  });

  // b's sale and c's registration swap places: each stream keeps its order, no position is missing.
  const swapSaleAndRegistration = async () => {
    const [x, y] = [base + 3, base + 4];
    await editLog(ledger, 'UPDATE events SET position = ? WHERE position = ?', [-1, x]);
    await editLog(ledger, 'UPDATE events SET position = ? WHERE position = ?', [x, y]);
    await editLog(ledger, 'UPDATE events SET position = ? WHERE position = ?', [y, -1]);
    return [x, y] as const;
  };

  it('the global chain finds records of two streams that traded places, at their positions', async () => {
    const [x, y] = await swapSaleAndRegistration();
    const verified = cli('verify', '--json');
    expect(verified.status).to.equal(3);
    const report = JSON.parse(verified.stdout);
    expect(report).to.deep.include({ ok: false, broken: [], gaps: [] });
    // The seams around the moved records: x-1 → x, x → y, y → y+1.
    expect(report.log.breaks.map((link: { position: number }) => link.position)).to.deep.equal([x, y, y + 1]);
    expect(cli('verify').stdout).to.include(`first at position ${x} (contact-${c.contactId} revision 0): the record`);
  });

  it('a recorded checkpoint still bounds a reordering whose global chain was recomputed', async () => {
    expect(cli('checkpoint', '--record').status).to.equal(0);
    const clean = JSON.parse(cli('verify', '--json').stdout);
    expect(clean).to.deep.include({ ok: true, checkpoints: { verified: 1, failed: [] } });
    expect(clean.log).to.include({ chained: clean.events, from: 1 });
    const [x] = await swapSaleAndRegistration();
    let previous = (await ledger.store.readAll({ after: x - 2, limit: 1 }))[0]!.logHash!;
    for (const record of await ledger.store.readAll({ after: x - 1, limit: 100 })) {
      previous = logLink(previous, record);
      await editLog(ledger, 'UPDATE events SET log_hash = ? WHERE position = ?', [previous, record.position]);
    }
    const report = JSON.parse(cli('verify', '--json').stdout);
    expect(report).to.deep.include({ ok: false, broken: [], gaps: [] });
    expect(report.log.breaks).to.deep.equal([]);
    expect(report.checkpoints.failed).to.deep.equal([{ position: base + 5, after: 0 }]);
    expect(cli('verify').stdout).to.match(/^BROKEN: the records up to position \d+ no longer hash/);
  });

  it('a ciphertext byte flipped under a checkpoint is found, though its stored hash was left as it was', async () => {
    const kept = join(ledger.dir, '..', `checkpoint-flip-${a.contactId}.json`);
    writeFileSync(kept, cli('checkpoint').stdout);
    expect(cli('verify', '--against', kept).status).to.equal(0);
    await flipByte(ledger, `contact-${b.contactId}`, 0, 'sealed_ciphertext', (text) => Math.floor(text.length / 2));
    const flipped = JSON.parse(cli('verify', '--against', kept, '--json').stdout);
    expect(flipped).to.deep.include({ ok: false, signed: true, extends: false });
  });

  it('a checkpoint altered after signing is refused', async () => {
    const checkpoint = JSON.parse(cli('checkpoint').stdout);
    const kept = join(ledger.dir, '..', `forged-${a.contactId}.json`);
    writeFileSync(
      kept,
      JSON.stringify({ ...checkpoint, position: checkpoint.position - 1, size: checkpoint.size - 1 }),
    );
    const forged = JSON.parse(cli('verify', '--against', kept, '--json').stdout);
    expect(forged).to.deep.include({ ok: false, signed: false });
  });
});
