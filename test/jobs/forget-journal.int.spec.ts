import { expect } from 'chai';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canonicalJson } from '../../src/crypto/hash-chain.js';
import { CheckpointSigner } from '../../src/crypto/log-checkpoint.js';
import { ForgetJournal, ForgetJournalTampered, journalEntryOf } from '../../src/jobs/forget-journal.js';

const forgetting = (n: number) => ({
  id: `E-${n}`,
  type: 'ContactErased',
  stream: `contact-C-${n}`,
  organizationId: 'ORG-A',
  occurredAt: '2026-11-01T00:00:00.000Z',
  data: { reason: 'inactive', runId: 'R-1' },
});

/** The journal of forgotten scopes on disk: a signed line per write; the lines written before hold one entry each. */
describe('forget journal', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ledger-journal-'));
  const path = join(dir, 'forget-journal.jsonl');
  const signer = CheckpointSigner.fromFile(join(dir, 'audit.key'));
  const open = () => ForgetJournal.open(path, signer, { onTorn: () => {}, logHoldsForgettings: false });
  afterEach(() => rmSync(path, { force: true }));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('records made together share one signed line; each entry is read back verified', async () => {
    const journal = open();
    await Promise.all([journal.record([forgetting(1), forgetting(2)]), journal.record([forgetting(3)])]);
    expect(readFileSync(path, 'utf8').trim().split('\n')).to.have.length(1);
    const ids = open()
      .verifiedEntries(() => true)
      .map((entry) => entry.eventId);
    expect(ids).to.deep.equal(['E-1', 'E-2', 'E-3']);
  });

  it('a line holds its entries as the canonical JSON its signature covers, serialized once', async () => {
    await open().record([forgetting(1), forgetting(2)]);
    const line = readFileSync(path, 'utf8').trim();
    const { entries, signature } = JSON.parse(line) as { entries: unknown[]; signature: string };
    expect(line).to.equal(`{"entries":${canonicalJson(entries)},"signature":"${signature}"}`);
    expect(signer.signed(Buffer.from(`contact-ledger forgettings v2\n${canonicalJson(entries)}`), signature)).to.equal(
      true,
    );
  });

  it('reads the lines of the second version written with their keys in any order', () => {
    const entries = [journalEntryOf(forgetting(5), '2026-11-02T00:00:00.000Z')];
    const signature = signer.signText(Buffer.from(`contact-ledger forgettings v2\n${canonicalJson(entries)}`));
    writeFileSync(path, `${JSON.stringify({ entries, signature })}\n`);
    expect(open().verifiedEntries(() => true)).to.deep.equal(entries);
  });

  it('reads the lines of the first version, one entry signed alone', () => {
    const entry = journalEntryOf(forgetting(4), '2026-11-02T00:00:00.000Z');
    const signature = signer.signText(Buffer.from(`contact-ledger forgetting v1\n${canonicalJson(entry)}`));
    writeFileSync(path, `${JSON.stringify({ entry, signature })}\n`);
    expect(open().verifiedEntries(() => true)).to.deep.equal([entry]);
  });

  it('refuses a changed entry of a line it acts on, naming the line; the others are not checked', async () => {
    await open().record([forgetting(5), forgetting(6)]);
    await open().record([forgetting(7)]);
    const [first, second] = readFileSync(path, 'utf8').trim().split('\n');
    writeFileSync(path, `${first!.replace('contact-C-6', 'contact-C-8')}\n${second}\n`);
    expect(() => open().verifiedEntries((entry) => entry.eventId === 'E-5'))
      .to.throw(ForgetJournalTampered)
      .with.property('message')
      .that.matches(/^line 1 /);
    expect(open().verifiedEntries((entry) => entry.eventId === 'E-7')).to.have.length(1);
  });

  it('cuts off a line torn by a crash, and journals on after it', async () => {
    await open().record([forgetting(9)]);
    appendFileSync(path, '{"entries":[{"eventId":"E-10"');
    let torn = 0;
    const journal = ForgetJournal.open(path, signer, { onTorn: (bytes) => (torn = bytes), logHoldsForgettings: false });
    expect(torn).to.be.greaterThan(0);
    await journal.record([forgetting(10)]);
    expect(
      open()
        .verifiedEntries(() => true)
        .map((entry) => entry.eventId),
    ).to.deep.equal(['E-9', 'E-10']);
  });
});
