import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { contactTimeline } from '../../src/app/contact-timeline.js';
import { forgetContact } from '../../src/app/forget-contact.js';
import { publish } from '../../src/app/publish.js';
import { expect } from 'chai';
import { openTestLedger, type TestLedger } from '../support/ledger.js';
import { backupKeys } from '../support/stored.js';
import { person, registered, ticketSold } from '../support/events.js';
import { openLedger } from '../../src/app/open-ledger.js';
import { createLogger } from '../../src/log.js';
import { Forgotten } from '../../src/domain/errors.js';

/** Crash-safety of forgetting: the log says what is forgotten, and the start-up pass obeys it. */
describe('shredder start-up pass', () => {
  let ledger: TestLedger;
  beforeEach(async () => (ledger = await openTestLedger()));
  afterEach(() => ledger.dispose());
  const reopen = async () => {
    await ledger.close();
    Object.assign(ledger, await openLedger(ledger.config, createLogger('silent')));
  };
  const personalStates = async (contactId: string) => (await contactTimeline(ledger, contactId)).map((e) => e.personal);

  it('after a crash between the forgetting event and the shred, the restart destroys the keys', async () => {
    const p = person();
    await publish(ledger, { events: [registered(p), ticketSold(p, 'O-1')] });
    // The forgetting event is in the log, but the process died before shredding.
    await publish(
      ledger,
      {
        type: 'ContactAnonymized',
        contactId: p.contactId,
        organizationId: 'ORG-A',
        occurredAt: '2026-01-01T00:00:00Z',
        data: { reason: 'request', requestId: 'R-1', retained: {} },
      },
      { allowLedgerTypes: true },
    );
    const stream = await ledger.store.readStream(`contact-${p.contactId}`);
    const keyIds = stream.flatMap((event) => (event.sealed ? [event.sealed.keyId] : []));
    expect(keyIds).to.have.length(2);
    expect((await ledger.keys.destroyed(keyIds)).size, 'the crash left the keys').to.equal(0);
    // The log already hides what they seal...
    expect(await personalStates(p.contactId)).to.deep.equal(['erased', 'erased', 'none']);
    await reopen();
    // ...and the restart destroys the contact's key; the order's is kept, unseen, until the order is purged.
    const [contactKey, orderKey] = keyIds;
    expect(await ledger.keys.destroyed(keyIds)).to.deep.equal(new Map([[contactKey, stream[2]!.id]]));
    expect(orderKey).not.to.equal(contactKey);
  });

  it('restoring an older key store backup is safe: forgotten keys are destroyed again and stay fenced', async () => {
    const [p, q] = [person(), person()];
    await publish(ledger, { events: [registered(p), registered(q), ticketSold(p, 'O-1')] });
    await ledger.close();
    const backup = await backupKeys(ledger);
    Object.assign(ledger, await openLedger(ledger.config, createLogger('silent')));
    await forgetContact(ledger, p.contactId, { reason: 'request', requestId: 'R-1' });
    await ledger.close();
    await backup.restore();

    Object.assign(ledger, await openLedger(ledger.config, createLogger('silent')));
    expect(await personalStates(p.contactId)).to.deep.equal(['erased', 'erased', 'none']);
    expect(await personalStates(q.contactId)).to.deep.equal(['open']);
    let fenced: unknown;
    await publish(ledger, { ...registered(p), type: 'ContactDetailsChanged' }).catch((error) => (fenced = error));
    expect(fenced).to.be.instanceOf(Forgotten);
  });
});

/** The live reaction never leaves a forgetting's keys for the next start: a failed shred is tried again. */
describe('shredder reaction', () => {
  let ledger: TestLedger;
  beforeEach(async () => (ledger = await openTestLedger()));
  afterEach(() => ledger.dispose());

  it('a shred that fails (the journal cannot be written) is reported, then done once it can be', async () => {
    const p = person();
    await publish(ledger, { events: [registered(p)] });
    const errors: string[] = [];
    const reaction = ledger.shredder.follow(await ledger.store.headPosition(), (error) =>
      errors.push((error as Error).message),
    );
    const journal = ledger.config.forgetJournal;
    rmSync(journal, { force: true });
    mkdirSync(journal); // a write there fails (EISDIR), as on a storage gone away
    try {
      await forgetContact(ledger, p.contactId, { reason: 'request', requestId: 'R-1' });
      const scope = `contact:${p.contactId}`;
      await until(() => errors.length > 0);
      expect(errors[0]).to.match(/EISDIR/);
      expect(await ledger.keys.tombstonesOf([scope]), 'not destroyed while it cannot be journaled').to.deep.equal([]);
      rmSync(journal, { recursive: true });
      await until(async () => (await ledger.keys.tombstonesOf([scope])).length === 1);
      expect(readFileSync(journal, 'utf8')).to.include(scope);
    } finally {
      reaction.unsubscribe();
      rmSync(journal, { recursive: true, force: true });
    }
  });
});

/** Resolves once `condition` holds, polled every 50 ms (within 10 s, the reaction retrying every 5 s). */
async function until(condition: () => boolean | Promise<boolean>): Promise<void> {
  for (const deadline = Date.now() + 10_000; !(await condition());) {
    if (Date.now() > deadline) throw new Error('the condition did not hold within 10 s');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
