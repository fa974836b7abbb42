import { expect } from 'chai';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { startServer, type RunningServer } from '../support/server.js';
import { runCli, runCliAsync } from '../support/cli.js';
import { person, registered, type Person } from '../support/events.js';
import { openTestLedger, tempDataDir, TEST_STORE } from '../support/ledger.js';
import { startApi } from '../support/http.js';
import { publish } from '../../src/app/publish.js';
import { openLedger, rotateLedgerMasterKey } from '../../src/app/open-ledger.js';
import { MasterKey } from '../../src/crypto/master-key.js';
import { readConfig } from '../../src/config.js';
import { createLogger } from '../../src/log.js';

/**
 * `ledger keys rotate-master` (issue 24, item 4), as an operator runs it: while `serve` appends,
 * then a restart on the new key, which is the only one that opens the ledger afterwards.
 */
describe(`master-key rotation while the ledger serves (${TEST_STORE})`, function () {
  this.timeout(180_000);
  const data = tempDataDir();
  const secrets = join(data.dir, 'secrets');
  mkdirSync(secrets);
  const keyFile = (name: string) => {
    const file = join(secrets, name);
    writeFileSync(file, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600 });
    return file;
  };
  const oldKey = keyFile('old.key');
  const newKey = keyFile('new.key');
  /** The ledger's environment with the master key given one way (file or command), and nothing else. */
  const envWith = (masterKey: Record<string, string>): NodeJS.ProcessEnv => {
    const { LEDGER_MASTER_KEY: _key, ...inherited } = data.env;
    return {
      ...inherited,
      LEDGER_DATA_DIR: join(data.dir, 'data'),
      LEDGER_AUDIT_KEY_FILE: join(secrets, 'audit.key'),
      ...masterKey,
    };
  };
  let server: RunningServer | null = null;
  let adminKey = '';
  after(async () => {
    await server?.stop();
    await data.remove();
  });

  const call = async (path: string, init: RequestInit = {}) => {
    const response = await fetch(`${server!.url}${path}`, {
      ...init,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${adminKey}`, ...init.headers },
    });
    return { status: response.status, body: (await response.json()) as Record<string, any> };
  };
  const publish = (people: Person[]) =>
    call('/v1/events', { method: 'POST', body: JSON.stringify({ events: people.map((p) => registered(p)) }) });
  /** Each person's e-mail, read back through a sealed view and found again through the blind index. */
  const expectReadable = async (people: Person[]) => {
    for (const p of people) {
      expect((await call(`/v1/contacts/${p.contactId}`)).body['details']?.email, p.contactId).to.equal(p.email);
    }
    const [first, last] = [people[0]!, people.at(-1)!];
    for (const p of [first, last]) {
      const found = await call(`/v1/contacts?email=${encodeURIComponent(p.email)}`);
      expect(found.body['contactIds'], p.contactId).to.deep.equal([p.contactId]);
    }
  };

  const before = Array.from({ length: 300 }, () => person());
  const during: Person[] = [];

  it('re-wraps every key while serve appends, and the running server reads and writes throughout', async () => {
    server = await startServer(envWith({ LEDGER_MASTER_KEY_FILE: oldKey }));
    adminKey = server.adminKey!;
    for (let i = 0; i < before.length; i += 100) expect((await publish(before.slice(i, i + 100))).status).to.equal(201);

    let publishing = true;
    const load = (async () => {
      while (publishing) {
        const batch = Array.from({ length: 10 }, () => person());
        const answer = await publish(batch);
        expect(answer.status, JSON.stringify(answer.body)).to.equal(201);
        during.push(...batch);
      }
    })();
    const rotated = await runCliAsync(
      ['keys', 'rotate-master', '--new-key-file', newKey, '--json'],
      envWith({ LEDGER_MASTER_KEY_FILE: oldKey }),
    );
    publishing = false;
    await load;
    // After the rotation ended: the server, still on the old key, wraps new keys by the new one.
    const after = Array.from({ length: 30 }, () => person());
    expect((await publish(after)).status).to.equal(201);
    during.push(...after);
    expect(rotated.status, rotated.stderr).to.equal(0);
    const report = JSON.parse(rotated.stdout) as { rewrapped: number; resumed: boolean; to: string };
    expect(report.resumed).to.equal(false);
    expect(report.rewrapped).to.be.at.least(before.length);
    expect(rotated.stderr).to.match(/restart every ledger process on the new key/);
    await expectReadable([...before, ...during]);
  });

  it('afterwards the old key is refused; the new one opens everything, its read models rebuilt', async () => {
    await server!.stop();
    server = null;
    const refused = runCli(['serve'], { ...envWith({ LEDGER_MASTER_KEY_FILE: oldKey }), PORT: '0' });
    expect(refused.status).to.equal(1);
    expect(refused.stderr).to.match(/not by the configured one .*LEDGER_MASTER_KEY/);

    // The new key from a command, as a KMS or Vault CLI gives it.
    server = await startServer(envWith({ LEDGER_MASTER_KEY_COMMAND: `cat '${newKey}'` }));
    const health = await call('/health');
    expect(health.body['projection']?.logMismatch).to.include({ reason: 'otherMasterKey', action: 'rebuilt' });
    await expectReadable([...before, ...during]);
    expect(server.logs()).not.to.include(keyText(newKey));
  });

  it('a failing LEDGER_MASTER_KEY_COMMAND refuses to start and prints no key', () => {
    const printsThenFails = `cat '${newKey}'; exit 3`;
    const refused = runCli(['serve'], { ...envWith({ LEDGER_MASTER_KEY_COMMAND: printsThenFails }), PORT: '0' });
    expect(refused.status).to.equal(1);
    expect(refused.stderr).to.match(/LEDGER_MASTER_KEY_COMMAND exited with status 3: no master key/);
    expect(refused.stderr + refused.stdout).not.to.include(keyText(newKey));
    // Its error output is kept only when it fails, and a key in it (a script under set -x) is blanked out.
    const echoed = runCli(['serve'], {
      ...envWith({ LEDGER_MASTER_KEY_COMMAND: `cat '${newKey}' >&2; exit 4` }),
      PORT: '0',
    });
    expect(echoed.stderr).to.match(/exited with status 4: no master key \(it said: \[redacted\]\)/);
    expect(echoed.stderr).not.to.include(keyText(newKey));
    const both = runCli(['serve'], {
      ...envWith({ LEDGER_MASTER_KEY_COMMAND: `cat '${newKey}'`, LEDGER_MASTER_KEY_FILE: newKey }),
      PORT: '0',
    });
    expect(both.stderr).to.match(/set one of LEDGER_MASTER_KEY, LEDGER_MASTER_KEY_COMMAND and LEDGER_MASTER_KEY_FILE/);
  });
});

/** The key as its file holds it, to look for in output. */
const keyText = (file: string) => readFileSync(file, 'utf8').trim();

/** Between the first start on the new key and the end of its rebuild, the e-mail index cannot answer. */
describe(`the e-mail look-up after a rotation (${TEST_STORE})`, function () {
  this.timeout(60_000);
  it('answers 503 with Retry-After, not an empty list, until the rebuild swaps the read models in', async () => {
    const ledger = await openTestLedger();
    const p = person();
    await publish(ledger, registered(p));
    await ledger.runner.catchUp();
    await ledger.close();
    const next = randomBytes(32).toString('base64');
    await rotateLedgerMasterKey(ledger.config, MasterKey.fromBase64(next, 'test'), {});
    const reopened = await openLedger(readConfig({ ...ledger.env, LEDGER_MASTER_KEY: next }), createLogger('silent'));
    const api = await startApi({ ...ledger, ...reopened });
    try {
      const before = await api.get(`/v1/contacts?email=${encodeURIComponent(p.email)}`);
      expect(before.status).to.equal(503);
      expect(before.headers.get('retry-after')).to.equal('5');
      expect(before.body).to.include({ type: 'urn:contact-ledger:problem:read-models-not-ready' });
      await reopened.runner.catchUp(); // the rebuild serve runs at start
      const after = await api.get(`/v1/contacts?email=${encodeURIComponent(p.email)}`);
      expect(after.body).to.deep.equal({ contactIds: [p.contactId] });
    } finally {
      await api.close();
      await reopened.close();
      await ledger.dispose().catch(() => {});
    }
  });
});
