import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { openTestLedger, type TestLedger } from '../support/ledger.js';
import { runCli } from '../support/cli.js';
import { publishDemo } from '../../src/demo/demo.js';
import { openLedger, type OpenLedger } from '../../src/app/open-ledger.js';
import { createLogger } from '../../src/log.js';

const main = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

/**
 * SIGKILL during `ledger projections rebuild`, at random moments (issue 16): the read models it
 * was building beside are never swapped in, so those in use stay whole, at the head (issue 24);
 * after a restart (the next catch-up), the read models equal the log folded again.
 */
describe('SIGKILL during a projections rebuild, three rounds', function () {
  this.timeout(300_000);
  let ledger: TestLedger;
  let listed: number;
  const listedContacts = async (opened: OpenLedger) =>
    (await opened.readModels.recencyBefore('2100-01-01', null, 10_000)).items.length;

  before(async () => {
    ledger = await openTestLedger();
    await publishDemo(ledger, { contacts: 5000, seed: 3 });
    await ledger.runner.catchUp();
    listed = await listedContacts(ledger);
    expect(listed).to.be.greaterThan(4000);
    await ledger.close();
  });
  after(() => ledger.dispose());

  it('leaves read models that a restart brings to what a clean rebuild gives', async () => {
    for (let round = 0; round < 3; round++) {
      const rebuild = spawn(process.execPath, ['--import', 'tsx', main, 'projections', 'rebuild'], {
        env: ledger.env,
        stdio: 'ignore',
      });
      const exited = new Promise((resolve) => rebuild.once('exit', resolve));
      await new Promise((resolve) => setTimeout(resolve, 700 + Math.random() * 2500));
      rebuild.kill('SIGKILL');
      await exited;
      const reopened = await openLedger(ledger.config, createLogger('silent'));
      try {
        // Nothing half-built took their place: the read models in use are whole, at the log's head.
        expect(await reopened.readModels.checkpoint('read-models')).to.equal(await reopened.store.headPosition());
        expect(await listedContacts(reopened)).to.equal(listed);
      } finally {
        await reopened.close();
      }
      // `projections verify` is the restart: it catches the read models up first, then compares them
      // with the log folded again into scratch ones.
      const verified = runCli(['projections', 'verify', '--json'], ledger.env);
      expect(verified.status, verified.stdout + verified.stderr).to.equal(0);
      expect(JSON.parse(verified.stdout)).to.include({ ok: true, differences: 0 });
    }
  });
});
