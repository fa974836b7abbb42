import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteEventStore } from '../../src/store/sqlite-event-store.js';
import { LEDGER_EVENT_INDEXES } from '../../src/store/ledger-event-indexes.js';
import { expect } from 'chai';
import { describeEventStoreContract, newEvent } from './event-store.contract.js';

describeEventStoreContract('sqlite (file on disk, WAL)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ledger-store-'));
  const store = new SqliteEventStore(join(dir, 'events.db'), { pollMs: 20, indexes: LEDGER_EVENT_INDEXES });
  const others: SqliteEventStore[] = [];
  return {
    store,
    openAnother: async () => {
      const other = new SqliteEventStore(join(dir, 'events.db'), { pollMs: 20, indexes: LEDGER_EVENT_INDEXES });
      others.push(other);
      return other;
    },
    dispose: async () => {
      for (const one of [store, ...others]) await one.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

describe('sqlite event store', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'ledger-sqlite-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  describe('the writer thread', () => {
    it('close waits for the appends in flight: each one is acknowledged and durable, none is dropped', async () => {
      const store = new SqliteEventStore(join(dir, 'events.db'));
      const appends = Array.from({ length: 20 }, (_, i) =>
        store.append([newEvent(`contact-${i % 3}`), newEvent(`contact-${i % 3}`)]),
      );
      await store.close();
      const outcomes = await Promise.all(appends);
      expect(outcomes.flatMap((outcome) => outcome.appended)).to.have.length(40);

      const reopened = new SqliteEventStore(join(dir, 'events.db'));
      expect((await reopened.readAll({ limit: 100 })).map((event) => event.position)).to.deep.equal(
        Array.from({ length: 40 }, (_, i) => i + 1),
      );
      await reopened.close();
    });

    it('a call that cannot be written or sent is refused with an error and leaves nothing behind', async () => {
      const store = new SqliteEventStore(join(dir, 'events.db'));
      // Data that cannot be written as JSON (a bigint) fails its group inside the thread: rolled back, refused.
      const unwritable = newEvent('contact-A', { data: { amount: 10n } });
      const failure = await store.append([unwritable]).then(
        () => null,
        (error: unknown) => error,
      );
      expect(failure).to.be.instanceOf(Error);
      expect((failure as Error).message).to.match(/BigInt/);
      // Data that cannot even be sent to the thread (a function) is refused before it leaves.
      const unsendable = newEvent('contact-A', { data: { callback: () => 1 } });
      expect(
        await store.append([unsendable]).then(
          () => null,
          (error: unknown) => error,
        ),
      ).to.be.instanceOf(Error);
      // Nothing of either was written; the next call lands at revision 0.
      expect((await store.append([newEvent('contact-A')])).appended.map((event) => event.revision)).to.deep.equal([0]);
      await store.close();
    });
  });
});
