import { expect } from 'chai';
import { openTestLedger, type TestLedger } from '../support/ledger.js';
import { startApi, type Api } from '../support/http.js';
import { runCli } from '../support/cli.js';
import { person, registered, ticketSold } from '../support/events.js';
import { editReadModels } from '../support/stored.js';
import { publish } from '../../src/app/publish.js';

/** Read models checked against the log (issue 16, finding 2): an edited state.db is found and reported. */
describe('ledger projections verify', function () {
  this.timeout(120_000);
  let ledger: TestLedger;
  let api: Api;
  const [a, b, c] = [person(), person(), person()];

  before(async () => {
    ledger = await openTestLedger();
    api = await startApi(ledger);
    await publish(ledger, {
      events: [registered(a), registered(b), registered(c), ticketSold(a, 'O-1', '2031-01-01T00:00:00Z')],
    });
    await ledger.runner.catchUp();
  });
  after(async () => {
    await api.close();
    await ledger.dispose();
  });

  const verify = () => {
    const run = runCli(['projections', 'verify', '--json'], ledger.env);
    return { status: run.status, stderr: run.stderr, report: JSON.parse(run.stdout || '{}') };
  };

  it('says OK on read models that equal the log folded again', async () => {
    const { status, stderr, report } = verify();
    expect(status, stderr).to.equal(0);
    expect(report).to.include({ ok: true, differences: 0 });
    expect(report.rows).to.be.above(3);
    expect((await api.get('/health')).body).to.deep.include({ status: 'ok' });
  });

  it('names each edited row (a recency date, a status, a legal-hold flag), exits 3, and /health says so', async () => {
    await editReadModels(ledger, 'UPDATE contacts SET recency_at = ? WHERE contact_id = ?', [
      '2099-01-01T00:00:00.000Z',
      a.contactId,
    ]);
    await editReadModels(ledger, "UPDATE contacts SET status = 'anonymized' WHERE contact_id = ?", [b.contactId]);
    await editReadModels(ledger, 'UPDATE contacts SET legal_hold = 1 WHERE contact_id = ?', [c.contactId]);
    await editReadModels(ledger, 'DELETE FROM orders WHERE order_id = ?', ['O-1']);
    const { status, report } = verify();
    expect(status).to.equal(3);
    expect(report).to.include({ ok: false, differences: 4 });
    expect(report.first).to.deep.include.members([
      { table: 'contacts', key: { contact_id: a.contactId }, kind: 'differs', columns: ['recency_at'] },
      { table: 'contacts', key: { contact_id: b.contactId }, kind: 'differs', columns: ['status'] },
      { table: 'contacts', key: { contact_id: c.contactId }, kind: 'differs', columns: ['legal_hold'] },
      { table: 'orders', key: { order_id: 'O-1' }, kind: 'missing' },
    ]);
    const health = await api.get('/health');
    expect(health.status).to.equal(503);
    expect(health.body).to.deep.include({ status: 'degraded' });
    expect(health.body.verification.differences).to.equal(4);
    const table = runCli(['projections', 'verify'], ledger.env);
    expect(table.stdout).to.match(/^DIFFERENT: 4 read-model row\(s\)/);
    expect(table.stdout).to.include(`contacts {"contact_id":"${b.contactId}"} differs: status`);
    expect(table.stdout).not.to.include(a.email);
  });

  it('a rebuild repairs them: verify says OK again and /health is back to ok', async () => {
    const rebuilt = runCli(['projections', 'rebuild'], ledger.env);
    expect(rebuilt.status, rebuilt.stderr).to.equal(0);
    const { status, report } = verify();
    expect([status, report.ok]).to.deep.equal([0, true]);
    expect((await api.get('/health')).body).to.deep.include({ status: 'ok' });
  });
});
