import { expect } from 'chai';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startServer, type RunningServer } from '../support/server.js';
import { runCli, runCliAsync } from '../support/cli.js';
import { person, registered, type Person } from '../support/events.js';

/**
 * `ledger backup` (issue 24, item 2): an online copy of the embedded ledger while `serve` runs;
 * the backup folder is a data folder, which the same master key starts on.
 */
describe('ledger backup', function () {
  this.timeout(120_000);
  const root = mkdtempSync(join(tmpdir(), 'ledger-backup-'));
  /** The secrets live apart from every data folder, as the README asks of operators. */
  const secrets = join(root, 'secrets');
  mkdirSync(secrets);
  const masterKeyFile = join(secrets, 'master.key');
  writeFileSync(masterKeyFile, randomBytes(32).toString('base64'), { mode: 0o600 });
  const envOf = (dataDir: string): NodeJS.ProcessEnv => {
    const { LEDGER_MASTER_KEY: _key, LEDGER_STORE: _store, ...inherited } = process.env;
    return {
      ...inherited,
      LEDGER_DATA_DIR: dataDir,
      LEDGER_MASTER_KEY_FILE: masterKeyFile,
      LEDGER_AUDIT_KEY_FILE: join(secrets, 'audit.key'),
      LOG_LEVEL: 'silent',
    };
  };
  const live = join(root, 'live');
  let server: RunningServer | null = null;
  let adminKey = '';

  after(async () => {
    await server?.stop();
    rmSync(root, { recursive: true, force: true });
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
  const firstNameOf = async (p: Person) => (await call(`/v1/contacts/${p.contactId}`)).body['details']?.firstName;

  const before = Array.from({ length: 20 }, () => person());

  it('copies the ledger while serve appends; the copy starts with the same master key and holds the log', async () => {
    server = await startServer(envOf(live));
    adminKey = server.adminKey!;
    expect((await publish(before)).status).to.equal(201);
    // Appends keep arriving while the backup runs.
    let publishing = true;
    const during: Person[] = [];
    const load = (async () => {
      while (publishing) {
        const batch = Array.from({ length: 10 }, () => person());
        expect((await publish(batch)).status).to.equal(201);
        during.push(...batch);
      }
    })();
    const backup = await runCliAsync(['backup', join(root, 'backup'), '--json'], envOf(live));
    publishing = false;
    await load;
    expect(backup.stderr).to.equal('');
    expect(backup.status).to.equal(0);
    const report = JSON.parse(backup.stdout) as { position: number; files: Array<{ name: string }> };
    expect(report.files.map((file) => file.name)).to.deep.equal(['state.db', 'events.db', 'keys.db']);
    expect(readdirSync(join(root, 'backup')).sort(), 'no secret, no journal').to.deep.equal([
      'events.db',
      'keys.db',
      'state.db',
    ]);
    await server.stop();

    const restored = join(root, 'restored');
    cpSync(join(root, 'backup'), restored, { recursive: true });
    server = await startServer(envOf(restored));
    expect(report.position).to.be.at.least(before.length);
    for (const p of before) expect(await firstNameOf(p)).to.equal(p.firstName);
    // Published while it copied: in the copy whole (its key too, keys.db being copied last), or not at all.
    for (const p of during) {
      const { status } = await call(`/v1/contacts/${p.contactId}`);
      if (status !== 404) expect(await firstNameOf(p), p.contactId).to.equal(p.firstName);
    }
    const verified = runCli(['audit', 'verify'], envOf(restored));
    expect(verified.stdout).to.match(/^OK: \d+ events/);
    await server.stop();
    server = null;
  });

  it('a restore never brings a forgotten person back; the others are whole', async () => {
    const [gone, kept] = [person(), person()];
    const origin = join(root, 'origin');
    server = await startServer(envOf(origin));
    adminKey = server.adminKey!;
    expect((await publish([gone, kept])).status).to.equal(201);
    const backup = await runCliAsync(['backup', join(root, 'before-forgetting')], envOf(origin));
    expect(backup.status, backup.stderr).to.equal(0);
    // The server's reaction may destroy the key before this process does.
    const forgot = runCli(['forget', gone.contactId, '--reason', 'request'], envOf(origin));
    expect(forgot.stdout, forgot.stderr).to.match(/erased by event \S+; [01] key\(s\) destroyed/);
    const forgettingId = /by event (\S+);/.exec(forgot.stdout)![1]!;
    await server.stop();
    const journal = readFileSync(join(secrets, 'forget-journal.jsonl'), 'utf8');
    expect(journal).to.include(forgettingId).and.include(gone.contactId);
    for (const value of [gone.firstName, gone.lastName, gone.email, gone.phone, gone.street]) {
      expect(journal, 'nothing personal in the journal').not.to.include(value);
    }

    // The backup taken before the forgetting, restored into a new data folder.
    const restored = join(root, 'restored-after-forgetting');
    cpSync(join(root, 'before-forgetting'), restored, { recursive: true });
    server = await startServer(envOf(restored));
    const view = (await call(`/v1/contacts/${gone.contactId}`)).body;
    expect(view['status']).to.equal('erased');
    expect(view['details']?.firstName).to.equal(undefined);
    const timeline = (await call(`/v1/contacts/${gone.contactId}/events`)).body as any;
    expect(
      timeline.events.map((event: any) => [event.id === forgettingId ? 'forgetting' : event.type, event.personal]),
    ).to.deep.equal([
      ['ContactRegistered', 'erased'],
      ['forgetting', 'none'],
    ]);
    expect(await firstNameOf(kept)).to.equal(kept.firstName);
    await server.stop();
    server = null;
    const keys = new Database(join(restored, 'keys.db'), { readonly: true });
    try {
      const scope = `contact:${gone.contactId}`;
      expect(keys.prepare('SELECT count(*) FROM keys WHERE scope = ?').pluck().get(scope), 'key').to.equal(0);
      expect(keys.prepare('SELECT event_id FROM tombstones WHERE scope = ?').pluck().get(scope)).to.equal(forgettingId);
    } finally {
      keys.close();
    }
  });

  it('refuses to start on a journal whose entry it must act on was changed, naming its line', async () => {
    const path = join(secrets, 'forget-journal.jsonl');
    const original = readFileSync(path, 'utf8');
    // A log from before the forgetting: the journal's entry is what would forget the person.
    const restored = join(root, 'restored-with-a-changed-journal');
    cpSync(join(root, 'before-forgetting'), restored, { recursive: true });
    try {
      writeFileSync(path, original.replace('"stream":"contact-C-', '"stream":"contact-C-0'));
      const refused = runCli(['keys', 'list'], envOf(restored));
      expect(refused.stderr).to.match(/line 1 of the forget journal .* is not signed by this ledger's audit key/);
      expect(refused.status).to.equal(1);
    } finally {
      writeFileSync(path, original);
    }
  });

  it('refuses a log holding forgettings with no forget journal, naming it; an empty one starts it anew', () => {
    // The log that holds the forgetting, its journal left behind (moved, or LEDGER_FORGET_JOURNAL pointing elsewhere).
    const restored = join(root, 'restored-without-its-journal');
    cpSync(join(root, 'origin'), restored, { recursive: true });
    const journal = join(root, 'elsewhere.jsonl');
    const env = { ...envOf(restored), LEDGER_FORGET_JOURNAL: journal };
    const refused = runCli(['keys', 'list'], env);
    expect(refused.status).to.equal(1);
    expect(refused.stderr.trim().split('\n')).to.have.length(1);
    expect(refused.stderr).to.include(`no forget journal at ${journal} (LEDGER_FORGET_JOURNAL`);
    expect(existsSync(journal), 'nothing made in its place').to.equal(false);
    // A folder where the journal should be is named as such.
    mkdirSync(journal);
    expect(runCli(['keys', 'list'], env).stderr).to.match(
      /the forget journal .* cannot be read \(LEDGER_FORGET_JOURNAL\)/,
    );
    rmSync(journal, { recursive: true });
    // Lost for good: the operator's empty file starts it again from the log's forgettings.
    writeFileSync(journal, '');
    const started = runCli(['keys', 'list'], env);
    expect(started.status, started.stderr).to.equal(0);
    expect(readFileSync(journal, 'utf8')).to.include('"type":"ContactErased"');
  });

  const refusals: Array<[string, () => [string[], NodeJS.ProcessEnv], RegExp]> = [
    ['a folder that exists and is not empty', () => [['backup', join(root, 'backup')], envOf(live)], /not an empty/],
    [
      'a data folder with no ledger',
      () => [['backup', join(root, 'elsewhere')], envOf(join(root, 'none'))],
      /no ledger to back up: .*events\.db does not exist/,
    ],
    [
      'PostgreSQL, naming pg_dump of the two schemas',
      () => [
        ['backup', join(root, 'elsewhere')],
        { ...envOf(live), LEDGER_STORE: 'postgres', LEDGER_DATABASE_URL: 'postgresql://127.0.0.1:1/none' },
      ],
      /events schema \(ledger\).*keys schema \(ledger_keys\).*pg_dump/,
    ],
  ];
  for (const [name, input, message] of refusals) {
    it(`refuses ${name} with one line, exit 2, writing nothing`, () => {
      const [args, env] = input();
      const { status, stderr } = runCli(args, env);
      expect(stderr).to.match(message);
      expect(stderr.trim().split('\n')).to.have.length(1);
      expect(status).to.equal(2);
      expect(readdirSync(root)).not.to.include('elsewhere');
    });
  }
});
