import { expect } from 'chai';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { readConfig } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { openLedger } from '../../src/app/open-ledger.js';
import { publish } from '../../src/app/publish.js';
import { contactView } from '../../src/app/contact-view.js';
import { MissingKeyStore, MissingLog, WrongMasterKey } from '../../src/crypto/key-store.js';
import { runCli } from '../support/cli.js';
import { person, registered } from '../support/events.js';
import { dropSchemas, TEST_DATABASE_URL, testSchemaName } from '../support/postgres.js';

const open = (env: NodeJS.ProcessEnv) => openLedger(readConfig(env), createLogger('silent'));
const key = () => randomBytes(32).toString('base64');
/** What an opening that must fail threw. */
const refusal = async (opening: Promise<unknown>) => {
  try {
    await opening;
  } catch (error) {
    return error as Error;
  }
  throw new Error('the ledger opened');
};

/** The wrong master key refuses to start (issue 16, finding 4), on the embedded default and on PostgreSQL. */
describe('the wrong master key refuses to start', function () {
  this.timeout(60_000);
  const dirs: string[] = [];
  const newDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'ledger-master-'));
    dirs.push(dir);
    return dir;
  };
  after(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

  it('SQLite: another key is refused with the variables to set; the right one still opens everything', async () => {
    const dir = newDir();
    const right = key();
    const p = person();
    const first = await open({ LEDGER_DATA_DIR: dir, LEDGER_MASTER_KEY: right });
    await publish(first, registered(p));
    await first.close();
    const wrong = await refusal(open({ LEDGER_DATA_DIR: dir, LEDGER_MASTER_KEY: key() }));
    expect(wrong).to.be.instanceOf(WrongMasterKey);
    expect(wrong.message).to.match(/LEDGER_MASTER_KEY or LEDGER_MASTER_KEY_FILE/);
    expect(wrong.message).not.to.include(right);
    const again = await open({ LEDGER_DATA_DIR: dir, LEDGER_MASTER_KEY: right });
    expect((await contactView(again, p.contactId)).details.email).to.equal(p.email);
    await again.close();
  });

  describe('PostgreSQL: a fresh data folder beside an existing ledger', () => {
    const schema = testSchemaName();
    const pgEnv = (dir: string) => ({
      LEDGER_DATA_DIR: dir,
      LEDGER_STORE: 'postgres',
      LEDGER_DATABASE_URL: TEST_DATABASE_URL,
      LEDGER_DATABASE_SCHEMA: schema,
      LEDGER_KEYS_SCHEMA: `${schema}_keys`,
      LOG_LEVEL: 'silent',
    });
    after(async () => {
      const pool = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 1 });
      await dropSchemas(pool, [schema, `${schema}_keys`]).finally(() => pool.end());
    });

    it('is refused before anything listens, and the key it would have made is not left behind', async () => {
      const home = newDir();
      const first = await open(pgEnv(home)); // the first start makes home/master.key
      await publish(first, registered(person()));
      await first.close();
      expect(existsSync(join(home, 'master.key'))).to.equal(true);

      const fresh = newDir();
      const refused = await refusal(open(pgEnv(fresh)));
      expect(refused).to.be.instanceOf(WrongMasterKey);
      expect(refused.message).to.match(/created in .* and removed/);
      expect(existsSync(join(fresh, 'master.key'))).to.equal(false);
      const served = runCli(['serve'], { ...process.env, ...pgEnv(fresh), PORT: '0' });
      expect(served.status).to.equal(1);
      expect(served.stderr).to.match(/LEDGER_MASTER_KEY or LEDGER_MASTER_KEY_FILE/);
      expect(served.stdout).not.to.match(/listening|cl_K-/);
      expect(existsSync(join(fresh, 'master.key'))).to.equal(false);

      // The ledger's own key file still opens it.
      const again = await open({ ...pgEnv(fresh), LEDGER_MASTER_KEY_FILE: join(home, 'master.key') });
      await again.close();
    });
  });
});

/** A log beside a key store that holds nothing refuses to start (issue 24): it used to start "ok", then answer 500. */
describe('a missing key store or log refuses to start', function () {
  this.timeout(60_000);
  const dir = mkdtempSync(join(tmpdir(), 'ledger-keys-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('SQLite: keys.db gone beside events.db: refused, naming the file; nothing is made in its place', async () => {
    // The embedded default, whichever backend the test run's environment names.
    const env = { LEDGER_STORE: 'sqlite', LEDGER_DATA_DIR: dir, LEDGER_MASTER_KEY: key() };
    const first = await open(env);
    await publish(first, registered(person()));
    await first.close();
    for (const suffix of ['', '-wal', '-shm']) rmSync(join(dir, `keys.db${suffix}`), { force: true });

    const refused = await refusal(open(env));
    expect(refused).to.be.instanceOf(MissingKeyStore);
    expect(refused.message).to.include(join(dir, 'keys.db'));
    expect(refused.message).to.match(/Restore it from its backup/);
    expect(existsSync(join(dir, 'keys.db'))).to.equal(false);
    const served = runCli(['serve'], { ...process.env, ...env, PORT: '0', LOG_LEVEL: 'silent' });
    expect(served.status).to.equal(1);
    expect(served.stderr).to.include('keys.db');
    expect(served.stdout).not.to.match(/listening|cl_K-/);
  });

  it('SQLite: events.db gone beside keys.db: refused, naming it, at each start; no new ledger served', async () => {
    const data = mkdtempSync(join(dir, 'log-gone-'));
    const env = { LEDGER_STORE: 'sqlite', LEDGER_DATA_DIR: data, LEDGER_MASTER_KEY: key() };
    const first = await open(env);
    await publish(first, registered(person()));
    await first.close();
    for (const file of ['events.db', 'state.db']) {
      for (const suffix of ['', '-wal', '-shm']) rmSync(join(data, `${file}${suffix}`), { force: true });
    }

    const refused = await refusal(open(env));
    expect(refused).to.be.instanceOf(MissingLog);
    expect(refused.message).to.include(join(data, 'events.db'));
    expect(refused.message).to.match(/Restore it from its backup/);
    const served = runCli(['serve'], { ...process.env, ...env, PORT: '0', LOG_LEVEL: 'silent' });
    expect(served.status).to.equal(1);
    expect(served.stderr).to.include('events.db');
    expect(served.stdout).not.to.match(/listening|cl_K-/);
  });

  const lost: Array<[string, (schema: string) => string, typeof MissingLog | typeof MissingKeyStore]> = [
    ['the events schema gone beside the keys', (schema) => schema, MissingLog],
    ['an empty keys schema beside the events', (schema) => `${schema}_keys`, MissingKeyStore],
  ];
  for (const [name, dropped, refusedWith] of lost) {
    it(`PostgreSQL: ${name}: refused, naming the schema`, async () => {
      const schema = testSchemaName();
      const env = {
        LEDGER_DATA_DIR: mkdtempSync(join(dir, 'pg-')),
        LEDGER_MASTER_KEY: key(),
        LEDGER_STORE: 'postgres',
        LEDGER_DATABASE_URL: TEST_DATABASE_URL,
        LEDGER_DATABASE_SCHEMA: schema,
        LEDGER_KEYS_SCHEMA: `${schema}_keys`,
      };
      const pool = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 1 });
      try {
        const first = await open(env);
        await publish(first, registered(person()));
        await first.close();
        await dropSchemas(pool, [dropped(schema)]);
        const refused = await refusal(open(env));
        expect(refused).to.be.instanceOf(refusedWith);
        expect(refused.message).to.include(`schema ${dropped(schema)}`);
      } finally {
        await dropSchemas(pool, [schema, `${schema}_keys`]).finally(() => pool.end());
      }
    });
  }
});
