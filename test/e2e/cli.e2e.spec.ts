import { publish } from '../../src/app/publish.js';
import { expect } from 'chai';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { openTestLedger, tempDataDir, TEST_STORE, type TestLedger } from '../support/ledger.js';
import { runCli, runCliAsync, type CliResult } from '../support/cli.js';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { TEST_DATABASE_URL } from '../support/postgres.js';
import { person, registered, ticketSold } from '../support/events.js';

/** The `ledger` command refuses bad input with one clear line and a non-zero exit, changing nothing. */
describe('ledger CLI: refusals', function () {
  this.timeout(60_000);
  let ledger: TestLedger;
  const [held, debtor, valid] = [person(), person(), person()];
  before(async () => {
    ledger = await openTestLedger();
    await publish(ledger, {
      events: [
        registered(held),
        {
          type: 'LegalHoldPlaced',
          contactId: held.contactId,
          organizationId: 'ORG-A',
          occurredAt: '2025-01-01T00:00:00Z',
          data: { reason: 'litigation' },
        },
        registered(debtor),
        {
          type: 'BalanceChanged',
          contactId: debtor.contactId,
          organizationId: 'ORG-A',
          occurredAt: '2025-01-01T00:00:00Z',
          data: { balance: -20, currency: 'EUR' },
        },
        registered(valid),
        ticketSold(valid, 'O-future', '2099-01-01T00:00:00Z', '2025-01-01T00:00:00Z'),
      ],
    });
    await ledger.close();
  });
  after(() => ledger.dispose());

  const cases: Array<[string, () => string[], number, RegExp]> = [
    ['a contact under legal hold', () => ['forget', held.contactId, '--reason', 'request'], 2, /legal hold/],
    [
      'a debtor, saying what to do as the API does',
      () => ['forget', debtor.contactId, '--reason', 'request'],
      2,
      /^ledger: the contact is a debtor or creditor; settle the balance to zero before forgetting\n$/,
    ],
    ['a contact holding a valid ticket', () => ['forget', valid.contactId, '--reason', 'request'], 2, /still valid/],
    ['an unknown contact', () => ['forget', 'C-nobody', '--reason', 'request'], 2, /no events for contact C-nobody/],
    [
      'a contact id that is an e-mail address, without echoing it',
      () => ['forget', held.email, '--reason', 'request'],
      2,
      /contactId is not an opaque id/,
    ],
    [
      'an operator id that is a phone number',
      () => ['forget', held.contactId, '--reason', 'request', '--operator', held.phone],
      2,
      /operator id is not an opaque id/,
    ],
    ['a missing reason', () => ['forget', held.contactId], 1, /--reason/],
    [
      'an unknown reason',
      () => ['forget', held.contactId, '--reason', 'boredom'],
      1,
      /Allowed choices are request, inactivity/,
    ],
  ];
  for (const [name, args, status, message] of cases) {
    it(`forget refuses ${name}`, () => {
      const result = runCli(args(), ledger.env);
      expect(result.status).to.equal(status);
      expect(result.stderr).to.match(message);
      expect(result.stdout).to.equal('');
      for (const personal of [held.email, held.phone, held.firstName]) expect(result.stderr).not.to.contain(personal);
    });
  }

  it('refusals appended nothing: the log still verifies with its 6 events', () => {
    const result = runCli(['audit', 'verify'], ledger.env);
    expect(result.stdout.trim()).to.equal('OK: 6 events in 3 streams verified');
  });
});

/** What a command prints on stdout with --json, parsed: it must be one JSON document. */
function json(result: CliResult): any {
  expect(result.status, result.stderr).to.equal(0);
  return JSON.parse(result.stdout);
}

/** A failure as a user sees it: a non-zero exit and one line on stderr, no stack trace. */
function oneLine(result: CliResult, status: number, message: RegExp): void {
  expect(result.status).to.equal(status);
  expect(result.stdout).to.equal('');
  expect(result.stderr.trimEnd().split('\n')).to.have.length(1);
  expect(result.stderr)
    .to.match(message)
    .and.not.match(/^\s+at /m);
}

const balance = (contactId: string) => ({
  type: 'BalanceChanged' as const,
  contactId,
  organizationId: 'ORG-A',
  occurredAt: '2025-01-01T00:00:00Z',
  data: { balance: -20, currency: 'EUR' },
});

describe('ledger CLI: --json on every command, --version, --help, one-line failures', function () {
  this.timeout(120_000);
  let ledger: TestLedger;
  const [exported, linked, forgotten, debtor] = [person(), person(), person(), person()];
  before(async () => {
    ledger = await openTestLedger();
    await publish(ledger, {
      events: [
        registered(exported),
        registered(linked),
        registered(forgotten),
        registered(debtor),
        balance(debtor.contactId),
      ],
    });
    await ledger.close();
  });
  after(() => ledger.dispose());
  const cli = (...args: string[]) => runCli(args, ledger.env);

  it('--version prints the version of package.json', () => {
    const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
    expect(runCli(['--version'], ledger.env).stdout.trim()).to.equal(version);
  });

  it('serve on a port another process holds says so and ends, running nothing', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const { port } = taken.address() as AddressInfo;
    try {
      const env = { ...ledger.env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'info' };
      const result = await runCliAsync(['serve'], env);
      expect(result.status).to.equal(1);
      expect(result.stdout + result.stderr)
        .to.match(/address already in use/)
        .and.not.match(/ledger listening/);
    } finally {
      taken.close();
    }
  });

  it('--help names the environment variables each command reads', () => {
    expect(cli('forget', '--help').stdout).to.match(/Environment.*:\n(.*\n)*.*LEDGER_DATA_DIR/);
    expect(cli('serve', '--help').stdout).to.contain('LEDGER_ALLOWED_HOSTS').and.contain('LEDGER_MASTER_KEY_FILE');
    expect(cli('backup', '--help').stdout).to.contain('LEDGER_DATA_DIR').and.not.contain('PORT');
  });

  it('export --json: the access document on one line', () => {
    const result = cli('export', exported.contactId, '--json');
    expect(result.stdout.trimEnd().split('\n')).to.have.length(1);
    expect(json(result).contact.contactId).to.equal(exported.contactId);
  });

  it('consents link --json: {url, token, expiresAt}', () => {
    const link = json(cli('consents', 'link', linked.contactId, '--days', '3', '--json'));
    expect(link).to.have.keys('url', 'token', 'expiresAt');
    expect(link.url).to.match(new RegExp(`/privacy/${link.token}$`));
  });

  it('forget --json: the forgetting event and the keys destroyed', () => {
    const outcome = json(cli('forget', forgotten.contactId, '--reason', 'request', '--json'));
    expect(outcome).to.deep.include({ contactId: forgotten.contactId, alreadyForgotten: false });
    expect(outcome.forgettingEvent.type).to.equal('ContactErased');
    expect(outcome.keysDestroyed).to.be.at.least(1);
  });

  it("forget --json of a debtor: exit 2, the API's problem document on stderr, with its action", () => {
    const result = cli('forget', debtor.contactId, '--reason', 'request', '--json');
    expect(result.status).to.equal(2);
    expect(JSON.parse(result.stderr)).to.deep.include({
      type: 'urn:contact-ledger:problem:rule-violation',
      status: 422,
      detail: 'the contact is a debtor or creditor',
      action: 'settle the balance to zero before forgetting',
    });
  });

  it('keys create --json, then keys revoke --json', () => {
    const issued = json(cli('keys', 'create', '--role', 'batch', '--name', 'nightly', '--json'));
    expect(issued).to.include({ role: 'batch' });
    expect(issued.token).to.be.a('string');
    expect(json(cli('keys', 'revoke', issued.keyId, '--json'))).to.deep.equal({ keyId: issued.keyId, revoked: true });
    expect(json(cli('keys', 'revoke', issued.keyId, '--json'))).to.deep.equal({ keyId: issued.keyId, revoked: false });
  });

  it('projections rebuild --json, audit checkpoint --json, audit public-key --json', () => {
    const rebuilt = json(cli('projections', 'rebuild', '--json'));
    expect(rebuilt.position).to.be.at.least(5);
    expect(rebuilt).to.have.keys('position', 'seconds', 'eventsPerSecond', 'peakRssMegabytes');
    expect(json(cli('audit', 'checkpoint', '--json'))).to.include.keys('position', 'rootHash', 'signature');
    expect(json(cli('audit', 'public-key', '--json')).publicKey).to.match(/^-----BEGIN PUBLIC KEY-----/);
  });

  it('audit verify --stream of a stream that does not exist: exit 2, one line naming it', () => {
    oneLine(
      cli('audit', 'verify', '--stream', 'contact-C-nobody'),
      2,
      /^ledger: the log holds no stream contact-C-nobody/,
    );
  });

  it('audit verify --against a checkpoint file that does not exist, or is not one: one line, no stack trace', () => {
    const missing = join(ledger.dir, 'no-such-checkpoint.json');
    oneLine(cli('audit', 'verify', '--against', missing), 2, /cannot read the checkpoint file .*: no such file/);
    oneLine(cli('audit', 'verify', '--against', ledger.dir), 2, /cannot read the checkpoint file .*: it is a folder/);
    const other = join(ledger.dir, 'not-a-checkpoint.json');
    writeFileSync(other, '{"position": "last"}');
    oneLine(cli('audit', 'verify', '--against', other), 2, /is not a checkpoint/);
  });

  it('demo --json: the outcome, on a new data folder it may create', async () => {
    const data = tempDataDir();
    try {
      const outcome = json(runCli(['demo', '--contacts', '10', '--json'], data.env));
      expect(outcome).to.include({ contacts: 10, seed: 1, duplicates: 0 });
      expect(outcome.appended).to.equal(outcome.events).and.be.above(0);
    } finally {
      await data.remove();
    }
  });
});

describe('ledger CLI: a read-only command where no ledger is', function () {
  this.timeout(120_000);
  const commands = [
    ['export', 'C-1'],
    ['export-certificate', 'ER-1'],
    ['audit', 'verify'],
    ['audit', 'verify', '--stream', 'contact-C-1'],
    ['projections', 'verify'],
    ['batch', 'inactive'],
    ['consents', 'link', 'C-1'],
    ['keys', 'list'],
  ];
  for (const args of commands) {
    it(`ledger ${args.join(' ')} says so, exits 1 and creates nothing`, async () => {
      const data = tempDataDir();
      try {
        const result = runCli(args, data.env);
        const where = TEST_STORE === 'sqlite' ? /no ledger in .* \(no events.db\)/ : /no ledger in schema ledger_test_/;
        oneLine(result, 1, where);
        expect(result.stderr).to.contain('nothing was created');
        expect(readdirSync(data.dir)).to.deep.equal([]);
        if (TEST_STORE !== 'sqlite') {
          const pool = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 1 });
          const schemas = [data.env['LEDGER_DATABASE_SCHEMA'], data.env['LEDGER_KEYS_SCHEMA']];
          const found = await pool.query('SELECT nspname FROM pg_namespace WHERE nspname = ANY($1)', [schemas]);
          await pool.end();
          expect(found.rows).to.deep.equal([]);
        }
      } finally {
        await data.remove();
      }
    });
  }
});
