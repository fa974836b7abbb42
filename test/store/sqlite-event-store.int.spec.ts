import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteEventStore } from '../../src/store/sqlite-event-store.js';
import { domainEvents } from '../../src/projections/fold-batch.js';
import { EVENT_TYPES } from '../../src/domain/catalog.js';
import { expect } from 'chai';
import { describeEventStoreContract, newEvent } from './event-store.contract.js';

describeEventStoreContract('sqlite (file on disk, WAL)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ledger-store-'));
  const store = new SqliteEventStore(join(dir, 'events.db'), { pollMs: 20 });
  const others: SqliteEventStore[] = [];
  return {
    store,
    openAnother: async () => {
      const other = new SqliteEventStore(join(dir, 'events.db'), { pollMs: 20 });
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

  describe('fold pages for the bulk reader', () => {
    it('writes the domain events of a page as JSON text, with the ids of those that seal the field asked for; counts every event read', async () => {
      const store = new SqliteEventStore(join(dir, 'events.db'));
      const sealedWith = (fields: string[]) => ({
        keyId: 'contact:C-1#1',
        iv: 'aXY=',
        tag: 'dGFn',
        ciphertext: 'Y2lwaGVy',
        fields,
      });
      await store.append([
        newEvent('contact-C-1', {
          type: 'ContactRegistered',
          data: { role: 'individual', quote: 'say "hi" \\ é 😀' },
          sealed: sealedWith(['email', 'phone']),
        }),
        newEvent('contact-C-1', {
          type: 'TicketSold',
          data: { orderId: 'O-1', product: { kind: 'dated', validUntil: '2027-01-01T00:00:00.000Z' } },
          sealed: sealedWith(['beneficiary']),
        }),
        newEvent('order-O-1', { type: 'NoteAdded', sealed: sealedWith(['email']) }),
        newEvent('Contact-C-3', { type: 'NoteAdded' }),
        newEvent('contact-C-2', { type: 'NoSuchType' }),
        newEvent('contact-C-2', {
          type: 'MarketingLinkClicked',
          data: { campaignId: 'CMP-1', amount: 1.5, nothing: null },
        }),
        newEvent('order-O-2', { type: 'NoteAdded' }),
        newEvent('order-O-2', { type: 'NoteAdded' }),
      ]);
      const read = (after: number, limit: number) =>
        store.readFoldPage({ after, limit, streamPrefix: 'contact-', types: EVENT_TYPES, sealedField: 'email' });
      const facts = await store.readFacts({ after: 0, limit: 10 });

      const whole = read(0, 10);
      expect(JSON.parse(whole.events)).to.deep.equal(domainEvents(facts));
      expect(domainEvents(facts).map((event) => event.contactId)).to.deep.equal(['C-1', 'C-1', 'C-2']);
      expect(JSON.parse(whole.sealing)).to.deep.equal([facts[0]!.id]);
      expect([whole.last, whole.count]).to.deep.equal([8, 8]);
      // A page ends at the last event read, kept or not: one of no domain events still moves on.
      expect(read(0, 3)).to.include({ last: 3, count: 3 });
      expect(read(6, 5)).to.deep.equal({ events: '[]', sealing: '[]', last: 8, count: 2 });
      expect(read(8, 5)).to.include({ count: 0 });

      // The sealed parts of a page's range, read again by the thread that opens them (every stream).
      const sealing = (after: number, last: number) => store.readSealing({ after, last, field: 'email' });
      expect(sealing(0, 8)).to.deep.equal([0, 2].map((i) => ({ id: facts[i]!.id, sealed: facts[i]!.sealed })));
      expect(sealing(0, 2)).to.deep.equal([{ id: facts[0]!.id, sealed: facts[0]!.sealed }]);
      expect(sealing(1, 2)).to.deep.equal([]);
      await store.close();
    });
  });
});
