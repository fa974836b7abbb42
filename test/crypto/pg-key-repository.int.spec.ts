import { expect } from 'chai';
import { PgKeyRepository } from '../../src/postgres/pg-key-repository.js';
import { KeyStore } from '../../src/crypto/key-store.js';
import { MasterKey } from '../../src/crypto/master-key.js';
import pg from 'pg';
import { TEST_DATABASE_URL, testDatabase } from '../support/postgres.js';
import { rotateMasterKey } from '../../src/app/rotate-master-key.js';
import { describeKeyStoreContract } from './key-store.contract.js';
import { readConfig } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { openLedger } from '../../src/app/open-ledger.js';
import { publish } from '../../src/app/publish.js';
import { forgetContact } from '../../src/app/forget-contact.js';
import { tempDataDir } from '../support/ledger.js';
import { person, registered } from '../support/events.js';
import { contactScope } from '../../src/domain/identifiers.js';

describeKeyStoreContract('postgres (own schema)', async () => {
  const database = testDatabase();
  const schema = database.schema();
  const repository = await PgKeyRepository.open(database.pool, schema);
  const others: PgKeyRepository[] = [];
  return {
    repository,
    openAnother: async () => {
      const other = await PgKeyRepository.open(database.pool, schema);
      others.push(other);
      return other;
    },
    dispose: async () => {
      for (const one of [repository, ...others]) await one.close();
      await database.dispose();
    },
  };
});

/** The raw pages of a table (pageinspect, installed into the test schema and dropped with it). */
async function pagesReader(pool: pg.Pool, schema: string) {
  const {
    rows: [installed],
  } = await pool.query<{ schema: string }>(
    "SELECT extnamespace::regnamespace::text AS schema FROM pg_extension WHERE extname = 'pageinspect'",
  );
  if (!installed) await pool.query(`CREATE EXTENSION pageinspect SCHEMA "${schema}"`);
  const functions = installed?.schema ?? `"${schema}"`;
  return async (table: string) => {
    const { rows } = await pool.query<{ page: Buffer }>(
      `SELECT ${functions}.get_raw_page('"${schema}".${table}', 'main', n::int) AS page
       FROM generate_series(0, pg_relation_size('"${schema}".${table}') / current_setting('block_size')::int - 1) AS n`,
    );
    return Buffer.concat(rows.map((row) => row.page));
  };
}

describe('postgres keys physical shredding', () => {
  it('leaves no byte of a destroyed wrapped key in any page of the keys table', async () => {
    const database = testDatabase();
    const schema = database.schema();
    try {
      const repository = await PgKeyRepository.open(database.pool, schema);
      const tablePages = await pagesReader(database.pool, schema);
      const keys = new KeyStore(repository, MasterKey.generate());
      const scopes = Array.from({ length: 50 }, (_, i) => `contact:C-${i}`);
      await keys.keysFor(scopes);
      const { keys: forgotten } = await repository.findByScopes(scopes.slice(0, 10));
      const { keys: kept } = await repository.findByScopes(scopes.slice(10));
      const before = await tablePages('scope_keys');
      expect(forgotten.every((row) => before.includes(row.wrapped))).to.equal(true);

      expect(await keys.shred(scopes.slice(0, 10), { reason: 'ContactAnonymized', eventId: 'ev' })).to.equal(10);
      const after = await tablePages('scope_keys');
      expect(forgotten.filter((row) => after.includes(row.wrapped.subarray(0, 16)))).to.deep.equal([]);
      expect(kept.every((row) => after.includes(row.wrapped))).to.equal(true);
      const { tombstones } = await repository.findByScopes(scopes.slice(0, 10));
      expect(tombstones.map((t) => t.scope).sort()).to.deep.equal(scopes.slice(0, 10).sort());
      await repository.close();
    } finally {
      await database.dispose();
    }
  });

  it('a wipe held back by a snapshot from before the forgetting stays owed, and the next start does it', async () => {
    const database = testDatabase();
    const schema = database.schema();
    const report = new pg.Client({ connectionString: TEST_DATABASE_URL });
    try {
      const repository = await PgKeyRepository.open(database.pool, schema);
      const tablePages = await pagesReader(database.pool, schema);
      const keys = new KeyStore(repository, MasterKey.generate());
      const scopes = Array.from({ length: 20 }, (_, i) => `contact:C-${i}`);
      await keys.keysFor(scopes);
      const { keys: forgotten } = await repository.findByScopes(scopes.slice(0, 5));
      const leftInPages = async () => {
        const pages = await tablePages('scope_keys');
        return forgotten.filter((row) => pages.includes(row.wrapped.subarray(0, 16))).length;
      };
      // A report's snapshot, taken before the forgetting: VACUUM FULL copies the row versions it may see.
      await report.connect();
      await report.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
      await report.query('SELECT 1');

      expect(await keys.shred(scopes.slice(0, 5), { reason: 'ContactAnonymized', eventId: 'ev' })).to.equal(5);
      expect(await leftInPages()).to.equal(5);
      expect(await repository.wipeShredded()).to.equal('heldBack');
      await repository.close();
      await report.query('COMMIT');

      // A later start (another process, the same schema) finds the wipe owed and does it.
      const restarted = await PgKeyRepository.open(database.pool, schema);
      expect(await restarted.wipeShredded()).to.equal('wiped');
      expect(await leftInPages()).to.equal(0);
      const { keys: kept, tombstones } = await restarted.findByScopes(scopes);
      expect([kept.length, tombstones.length]).to.deep.equal([15, 5]);
      await restarted.close();
    } finally {
      await report.end();
      await database.dispose();
    }
  });

  it('a forgetting whose wipe a report held back is wiped by the next start of the ledger', async () => {
    const data = tempDataDir('postgres');
    const config = readConfig(data.env);
    const report = new pg.Client({ connectionString: TEST_DATABASE_URL });
    const pool = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 1 });
    try {
      let ledger = await openLedger(config, createLogger('silent'));
      const [gone, kept] = [person(), person()];
      for (const p of [gone, kept]) await publish(ledger, registered(p));
      const tablePages = await pagesReader(pool, config.keysSchema);
      const wrappedKey = async (contactId: string) =>
        (
          await pool.query<{ wrapped: Buffer | null }>(
            `SELECT wrapped FROM "${config.keysSchema}".scope_keys WHERE scope = $1`,
            [contactScope(contactId)],
          )
        ).rows[0]?.wrapped ?? null;
      const wrapped = (await wrappedKey(gone.contactId))!;
      const inPages = async () => (await tablePages('scope_keys')).includes(wrapped.subarray(0, 16));
      await report.connect();
      await report.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
      await report.query('SELECT 1');
      await forgetContact(ledger, gone.contactId, { reason: 'request', requestId: 'REQ-WIPE' });
      expect(await ledger.shredder.reconcile()).to.include({ keysDestroyed: 1 }); // what `serve` follows the log for
      expect(await wrappedKey(gone.contactId)).to.equal(null);
      expect(await inPages()).to.equal(true);
      await ledger.close();
      await report.query('COMMIT');
      const owed = async () =>
        (await pool.query<{ owed: boolean }>(`SELECT shreds > wiped AS owed FROM "${config.keysSchema}".key_wipes`))
          .rows[0]!.owed;
      expect(await owed()).to.equal(true);

      ledger = await openLedger(config, createLogger('silent'));
      expect(await owed()).to.equal(false);
      expect(await inPages()).to.equal(false);
      expect([await wrappedKey(gone.contactId), await wrappedKey(kept.contactId)]).to.satisfy(
        ([forgotten, other]: Array<Buffer | null>) => forgotten === null && other !== null,
      );
      await ledger.close();
    } finally {
      await report.end();
      await pool.end();
      await data.remove();
    }
  });

  it('a start with a wipe owed while a dump holds the keys table starts at once (held back: retried)', async () => {
    const data = tempDataDir('postgres');
    const config = readConfig({ ...data.env, LEDGER_DATABASE_TIMEOUT: '2' });
    // What pg_dump does: a repeatable-read snapshot, and ACCESS SHARE on every table it dumps, for the whole dump.
    const dump = new pg.Client({ connectionString: TEST_DATABASE_URL });
    try {
      let ledger = await openLedger(config, createLogger('silent'));
      const gone = person();
      await publish(ledger, registered(gone));
      await dump.connect();
      await dump.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
      await dump.query(`SELECT count(*) FROM "${config.keysSchema}".scope_keys`);
      await forgetContact(ledger, gone.contactId, { reason: 'request', requestId: 'REQ-DUMP' });
      expect(await ledger.shredder.reconcile()).to.include({ keysDestroyed: 1 });
      await ledger.close();
      const started = performance.now();
      ledger = await openLedger(config, createLogger('silent'));
      expect(performance.now() - started).to.be.below(5000);
      await ledger.close();
    } finally {
      await dump.end();
      await data.remove();
    }
  });

  it("a wipe behind another session's lock gives up in seconds, held back, and key look-ups go on", async () => {
    const database = testDatabase();
    const schema = database.schema();
    const holder = new pg.Client({ connectionString: TEST_DATABASE_URL });
    try {
      const repository = await PgKeyRepository.open(database.pool, schema);
      const keys = new KeyStore(repository, MasterKey.generate());
      const scopes = Array.from({ length: 5 }, (_, i) => `contact:C-${i}`);
      await keys.keysFor(scopes);
      await keys.shred(scopes.slice(0, 1), { reason: 'ContactAnonymized', eventId: 'ev' });
      // A transaction begun after the shred (its snapshot keeps nothing destroyed) holding the table.
      await holder.connect();
      await holder.query('BEGIN');
      await holder.query(`LOCK TABLE "${schema}".scope_keys IN ACCESS SHARE MODE`);
      await keys.shred(scopes.slice(1, 2), { reason: 'ContactAnonymized', eventId: 'ev2' });
      const started = performance.now();
      expect(await repository.wipeShredded()).to.equal('heldBack');
      expect(performance.now() - started).to.be.below(5000);
      expect((await repository.findByScopes(scopes)).keys).to.have.length(3);
      await holder.query('COMMIT');
      expect(await repository.wipeShredded()).to.equal('wiped');
      await repository.close();
    } finally {
      await holder.end();
      await database.dispose();
    }
  });

  it('a rotation waits for older snapshots before its wipe; then no old wrapping nor bridge in any page', async () => {
    const database = testDatabase();
    const schema = database.schema();
    const reader = new pg.Client({ connectionString: TEST_DATABASE_URL });
    try {
      const repository = await PgKeyRepository.open(database.pool, schema, { snapshotWaitMs: 500 });
      const tablePages = await pagesReader(database.pool, schema);
      const [old, next] = [MasterKey.generate(), MasterKey.generate()];
      const keys = new KeyStore(repository, old);
      await keys.checkMasterKey();
      const scopes = Array.from({ length: 20 }, (_, i) => `contact:C-${i}`);
      await keys.keysFor(scopes);
      const { keys: wrappedByOld } = await repository.findByScopes(scopes);
      // A report's snapshot, taken before the rotation, could still see the old row versions.
      await reader.connect();
      await reader.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
      await reader.query(`SELECT count(*) FROM "${schema}".scope_keys`);
      const held = await rotateMasterKey(repository, old, next).catch((error: Error) => error);
      expect(held)
        .to.have.property('message')
        .that.matches(/hold snapshots from before the re-wrap/);
      expect((await repository.rotation())?.finishedAt).to.equal(null);
      await reader.query('COMMIT');

      expect(await rotateMasterKey(repository, old, next)).to.include({ resumed: true, rewrapped: 0 });
      const bridge = (await repository.rotation())!.bridge!;
      await new KeyStore(repository, next).checkMasterKey(); // the first start on the new key
      const [keyPages, bridgePages] = [await tablePages('scope_keys'), await tablePages('master_key_bridge')];
      expect(wrappedByOld.filter((row) => keyPages.includes(row.wrapped.subarray(28)))).to.deep.equal([]);
      expect(bridgePages.includes(bridge.subarray(28))).to.equal(false);
      await repository.close();
    } finally {
      await reader.end();
      await database.dispose();
    }
  });
});

/** What holds a wipe back and what does not, what it never blocks, and the schemas it finds. */
describe('postgres key wipes', function () {
  this.timeout(60_000);
  const cause = (eventId: string) => ({ reason: 'ContactAnonymized', eventId });

  it('a wipe whose VACUUM FULL was skipped (the role does not own the keys table): not counted, but told', async () => {
    const database = testDatabase();
    const schema = database.schema();
    const url = new URL(TEST_DATABASE_URL);
    url.username = 'ledger_test_nonowner';
    const app = new pg.Pool({ connectionString: url.toString() });
    try {
      await database.pool.query(`DO $$ BEGIN
        CREATE ROLE ledger_test_nonowner LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
        DO $$ BEGIN EXECUTE format('GRANT CREATE ON DATABASE %I TO ledger_test_nonowner', current_database()); END $$`);
      // The tables made by another role (a DBA, a migration, another node's role): DML granted, not owned.
      await PgKeyRepository.open(database.pool, schema);
      await database.pool.query(`GRANT USAGE, CREATE ON SCHEMA "${schema}" TO ledger_test_nonowner;
        GRANT ALL ON ALL TABLES IN SCHEMA "${schema}" TO ledger_test_nonowner`);
      const failures: string[] = [];
      const repository = await PgKeyRepository.open(app as never, schema, {
        onWipeFailed: (error) => failures.push(error.message),
      });
      const keys = new KeyStore(repository, MasterKey.generate());
      await keys.keysFor(['contact:A', 'contact:B']);
      const [a] = (await repository.findByScopes(['contact:A'])).keys;
      await keys.shred(['contact:A'], cause('eA'));
      // The shred's own wipe, which no caller awaits, failed: said to whoever logs (serve: a warning).
      expect(failures).to.have.length(1);
      expect(failures[0]).to.match(/did not rewrite .*scope_keys: the ledger's role must own the keys tables/);
      const outcome = await repository.wipeShredded().catch((error: Error) => error.message);
      // VACUUM FULL only warned "skipping ... only table or database owner can vacuum it".
      const inPages = (await (await pagesReader(database.pool, schema))('scope_keys')).includes(a!.wrapped);
      expect({ outcome, inPages }).to.not.deep.equal({ outcome: 'wiped', inPages: true });
      await repository.close();
    } finally {
      await app.end();
      await database.dispose();
    }
  });

  it('an owed wipe behind a dump does not queue key look-ups behind its lock wait', async () => {
    const database = testDatabase();
    const schema = database.schema();
    const old = new pg.Client({ connectionString: TEST_DATABASE_URL });
    const dump = new pg.Client({ connectionString: TEST_DATABASE_URL });
    try {
      const repository = await PgKeyRepository.open(database.pool, schema);
      const keys = new KeyStore(repository, MasterKey.generate());
      await keys.keysFor(['contact:A', 'contact:B', 'contact:C']);
      await repository.wipeShredded();
      // A reader older than the shred holds its wipe back: owed.
      await old.connect();
      await old.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
      await old.query('SELECT 1');
      await keys.shred(['contact:A'], cause('e1'));
      await old.end();
      // A dump begun after the shred: it keeps nothing destroyed, but holds ACCESS SHARE for its whole run.
      await dump.connect();
      await dump.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
      await dump.query(`SELECT count(*) FROM "${schema}".scope_keys`);
      const wipe = repository.wipeShredded(); // what the retry does every minute, on every node
      await new Promise((resolve) => setTimeout(resolve, 300));
      const started = performance.now();
      await repository.findByScopes(['contact:C']);
      const waited = performance.now() - started;
      expect(await wipe).to.equal('heldBack');
      expect(waited, `a key look-up waited ${Math.round(waited)} ms`).to.be.below(500);
      await repository.close();
    } finally {
      await dump.end();
      await database.dispose();
    }
  });

  it('a write transaction begun after the shred, still running, does not hold its wipe back', async () => {
    const database = testDatabase();
    const schema = database.schema();
    const writer = new pg.Client({ connectionString: TEST_DATABASE_URL });
    try {
      const repository = await PgKeyRepository.open(database.pool, schema);
      const keys = new KeyStore(repository, MasterKey.generate());
      await keys.keysFor(['contact:A', 'contact:B']);
      await repository.wipeShredded();
      // A shred whose wipe is owed (as shred() leaves it when held back).
      await database.pool.query(
        `UPDATE "${schema}".key_wipes SET shreds = shreds + 1, last_shred_txid = txid_current()`,
      );
      // Its xid is after the shred's: it sees the destroyed key as destroyed, and VACUUM FULL drops it.
      await writer.connect();
      await writer.query('BEGIN');
      await writer.query('SELECT txid_current()');
      expect(await repository.wipeShredded()).to.equal('wiped');
      await repository.close();
    } finally {
      await writer.end();
      await database.dispose();
    }
  });

  it('a keys schema of the first key_wipes (last_shred_xid text) still shreds after the upgrade', async () => {
    const database = testDatabase();
    const schema = database.schema();
    try {
      await database.pool.query(`CREATE SCHEMA "${schema}"; CREATE TABLE "${schema}".key_wipes (
        singleton boolean PRIMARY KEY CHECK (singleton), shreds bigint NOT NULL, wiped bigint NOT NULL,
        last_shred_xid text NOT NULL); INSERT INTO "${schema}".key_wipes VALUES (true, 0, 0, '1')`);
      const repository = await PgKeyRepository.open(database.pool, schema);
      const keys = new KeyStore(repository, MasterKey.generate());
      await keys.keysFor(['contact:A']);
      expect(await keys.shred(['contact:A'], cause('e'))).to.equal(1);
      await repository.close();
    } finally {
      await database.dispose();
    }
  });
});
