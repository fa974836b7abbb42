import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { backupLedger, openLedger } from '../../src/app/open-ledger.js';
import { contactTimeline } from '../../src/app/contact-timeline.js';
import { forgetContact } from '../../src/app/forget-contact.js';
import { publish } from '../../src/app/publish.js';
import { createLogger } from '../../src/log.js';
import { openTestLedger, TEST_STORE, type TestLedger } from '../support/ledger.js';
import { TEST_DATABASE_URL } from '../support/postgres.js';
import { person, registered, ticketSold } from '../support/events.js';

/**
 * A restore never brings a forgotten person back (issue 24, item 3): a backup taken before a
 * forgetting (SQLite: `ledger backup`; PostgreSQL: pg_dump of the events and keys schemas) is
 * restored after it; the journal of forgotten scopes, kept apart from the data, is re-applied at
 * start.
 */
describe('restoring a backup taken before a forgetting', function () {
  this.timeout(60_000);
  let ledger: TestLedger;
  const backupDir = mkdtempSync(join(tmpdir(), 'ledger-restore-'));
  beforeEach(async () => (ledger = await openTestLedger()));
  afterEach(() => ledger.dispose());
  after(() => rmSync(backupDir, { recursive: true, force: true }));

  /** What an operator does on this backend: back up while the ledger runs; later, restore it in place. */
  function takeBackup(): { restore(): void } {
    if (TEST_STORE === 'postgres') {
      const { databaseSchema, keysSchema } = ledger.config;
      const dump = (schema: string) => execFileSync('pg_dump', ['--schema', schema, TEST_DATABASE_URL]);
      const [events, keys] = [dump(databaseSchema), dump(keysSchema)];
      const psql = (input: Buffer | string) =>
        execFileSync('psql', ['-q', '-v', 'ON_ERROR_STOP=1', TEST_DATABASE_URL], { input, stdio: 'pipe' });
      return {
        restore: () => {
          psql(`DROP SCHEMA "${databaseSchema}" CASCADE; DROP SCHEMA "${keysSchema}" CASCADE;`);
          psql(events);
          psql(keys);
        },
      };
    }
    const folder = join(backupDir, String(Date.now()));
    backupLedger(ledger.config, folder);
    return {
      restore: () => {
        for (const name of readdirSync(ledger.dir).filter((file) => /^(events|keys|state)\.db/.test(file))) {
          rmSync(join(ledger.dir, name));
        }
        for (const name of readdirSync(folder)) copyFileSync(join(folder, name), join(ledger.dir, name));
      },
    };
  }
  const reopen = async () => Object.assign(ledger, await openLedger(ledger.config, createLogger('silent')));
  const personal = async (contactId: string) =>
    (await contactTimeline(ledger, contactId)).map((event) => [event.type, event.personal]);

  it('the forgotten stay forgotten (keys destroyed, forgetting appended again, once), the others whole', async () => {
    const [gone, kept] = [person(), person()];
    await publish(ledger, { events: [registered(gone), ticketSold(gone, 'O-1'), registered(kept)] });
    const backup = takeBackup();
    const { forgettingEvent } = await forgetContact(ledger, gone.contactId, { reason: 'request', requestId: 'R-1' });
    await ledger.shredder.shredFor(forgettingEvent);
    await ledger.close();
    backup.restore();

    await reopen();
    const stream = await ledger.store.readStream(`contact-${gone.contactId}`);
    expect(stream.map((event) => event.id)).to.include(forgettingEvent.id);
    expect(await personal(gone.contactId)).to.deep.equal([
      ['ContactRegistered', 'erased'],
      ['TicketSold', 'erased'],
      ['ContactAnonymized', 'none'],
    ]);
    const contactKeyId = stream[0]!.sealed!.keyId;
    expect(await ledger.keys.destroyed([contactKeyId])).to.deep.equal(new Map([[contactKeyId, forgettingEvent.id]]));
    expect(await personal(kept.contactId)).to.deep.equal([['ContactRegistered', 'open']]);

    await ledger.close();
    await reopen();
    expect(await ledger.store.readStream(`contact-${gone.contactId}`), 'appended once').to.have.length(3);
  });
});
