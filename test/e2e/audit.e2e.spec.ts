import { publish } from '../../src/app/publish.js';
import { expect } from 'chai';
import { openTestLedger, type TestLedger } from '../support/ledger.js';
import { editLog, flipByte } from '../support/stored.js';
import { startApi } from '../support/http.js';
import { runCli } from '../support/cli.js';
import { person, registered, ticketSold } from '../support/events.js';
import { openLedger } from '../../src/app/open-ledger.js';
import { createLogger } from '../../src/log.js';

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
});

/** The same data directory opened again (the beforeEach closed its ledger to let the test edit files). */
async function openTestLedgerAt(ledger: TestLedger): Promise<TestLedger> {
  const opened = await openLedger(ledger.config, createLogger('silent'));
  return { ...ledger, ...opened };
}
