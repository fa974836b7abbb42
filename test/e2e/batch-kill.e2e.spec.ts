import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { readConfig } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { openLedger, type OpenLedger } from '../../src/app/open-ledger.js';
import { publish } from '../../src/app/publish.js';
import { runInactiveBatch } from '../../src/app/inactive-contacts-batch.js';
import { CONTACT_FORGETTING_TYPES } from '../../src/domain/catalog.js';
import { tempDataDir } from '../support/ledger.js';
import { runCli } from '../support/cli.js';
import { person, registered, ticketSold } from '../support/events.js';

const main = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const AS_OF = '2026-11-30';

/** Starts `ledger batch inactive --apply` and SIGKILLs it after `afterMs` (unless it ended first). */
function applyAndKill(env: NodeJS.ProcessEnv, afterMs: number): Promise<{ killed: boolean }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', main, 'batch', 'inactive', '--apply', '--as-of', AS_OF], {
      env,
      stdio: 'ignore',
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), afterMs);
    child.on('exit', (_code, signal) => {
      clearTimeout(timer);
      resolve({ killed: signal === 'SIGKILL' });
    });
  });
}

/**
 * Crash safety of the inactive-contact batch (DESIGN.md "Forgetting": every forgetting is
 * idempotent and crash-safe): a process applying it is killed (SIGKILL, no clean-up) at random
 * moments, then the batch is run to its end. Every selected contact is forgotten exactly once,
 * every key of a forgotten scope is gone, nothing else is touched, and the history verifies.
 */
describe('inactive batch killed at random moments, then re-run', function () {
  this.timeout(300_000);
  const data = tempDataDir();
  const people = Array.from({ length: 3000 }, () => person());
  const recent = Array.from({ length: 50 }, () => person());
  let selected: string[];
  const open = () => openLedger(readConfig(data.env), createLogger('silent'));
  after(() => data.remove());

  before(async () => {
    const ledger = await open();
    const events = [
      ...people.flatMap((p, i) => [
        registered(p, '2019-01-10T09:00:00Z'),
        ...(i % 2 === 0 ? [ticketSold(p, `O-${i}`, '2020-05-01T20:00:00Z', '2020-01-01T10:00:00Z')] : []),
      ]),
      ...recent.flatMap((p, i) => [registered(p), ticketSold(p, `O-recent-${i}`, '2026-06-01T20:00:00Z')]),
    ];
    for (let i = 0; i < events.length; i += 1000) await publish(ledger, { events: events.slice(i, i + 1000) });
    await ledger.runner.catchUp();
    const { report } = await runInactiveBatch(ledger, { asOf: new Date(`${AS_OF}T00:00:00Z`) });
    selected = [...report.contacts.anonymized, ...report.contacts.erased].sort();
    await ledger.close();
    expect(selected).to.deep.equal(people.map((p) => p.contactId).sort());
  });

  it('forgets every selected contact exactly once, destroys their keys, touches nothing else', async () => {
    // Kill moments spread around the time a run takes to start and read (a simulation's), so that
    // they fall before, during and after the forgetting; runs go on until three were killed.
    const started = Date.now();
    expect(runCli(['batch', 'inactive', '--as-of', AS_OF], data.env).status).to.equal(0);
    const simulationMs = Date.now() - started;
    const kills: Array<{ killed: boolean }> = [];
    for (let run = 0; run < 8 && kills.filter((kill) => kill.killed).length < 3; run++) {
      kills.push(await applyAndKill(data.env, Math.round(simulationMs * (0.5 + Math.random()))));
    }
    expect(kills.filter((kill) => kill.killed).length, 'runs killed').to.be.greaterThan(0);
    if (process.env['TEST_LOG']) console.log(`runs killed: ${kills.map((kill) => kill.killed).join(', ')}`);
    const last = runCli(['batch', 'inactive', '--apply', '--as-of', AS_OF, '--json'], data.env);
    expect(last.status, last.stderr).to.equal(0);

    const ledger: OpenLedger = await open(); // its start-up pass shreds what a killed run left
    try {
      for (const p of [...people, ...recent]) {
        const stream = await ledger.store.readStream(`contact-${p.contactId}`);
        const forgettings = stream.filter((event) =>
          (CONTACT_FORGETTING_TYPES as readonly string[]).includes(event.type),
        );
        const keyIds = stream.flatMap((event) => (event.sealed ? [event.sealed.keyId] : []));
        const destroyed = await ledger.keys.destroyed(keyIds);
        if (selected.includes(p.contactId)) {
          expect(forgettings, p.contactId).to.have.length(1);
          expect(destroyed.size, p.contactId).to.equal(new Set(keyIds).size); // a purge may seal under the contact key
        } else {
          expect(forgettings, p.contactId).to.have.length(0);
          expect(destroyed.size, p.contactId).to.equal(0);
        }
      }
    } finally {
      await ledger.close();
    }
    const audit = runCli(['audit', 'verify'], data.env);
    expect(audit.status, audit.stderr).to.equal(0);
    expect(audit.stdout).to.match(/^OK: /);
  });
});
