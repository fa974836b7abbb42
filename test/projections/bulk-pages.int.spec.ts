import Database from 'better-sqlite3';
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { domainEvents } from '../../src/projections/fold-batch.js';
import { foldPageReader, sqlitePageSource } from '../../src/projections/bulk/sqlite-page-source.js';
import { SqliteEventStore } from '../../src/store/sqlite-event-store.js';
import { newEvent } from '../store/event-store.contract.js';

describe('bulk reader pages', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'ledger-bulk-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it(
    'SQLite writes the domain events of a page as JSON text, with the ' +
      'ids of those that seal an e-mail; a page counts every event read',
    async () => {
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
        newEvent('purposes', {
          type: 'PurposeConfigured',
          data: { code: 'newsletter', kind: 'consent', channel: 'email', expiryDays: 365 },
        }),
        newEvent('order-O-2', { type: 'NoteAdded' }),
      ]);
      const source = sqlitePageSource(dir);
      const db = new Database(join(dir, 'events.db'), { readonly: true });
      const read = foldPageReader(db);
      const facts = await store.readFacts({ after: 0, limit: 10 });

      const whole = read(0, 10);
      expect(JSON.parse(whole.events)).to.deep.equal(domainEvents(facts));
      expect(domainEvents(facts).map((event) => ('contactId' in event ? event.contactId : event.type))).to.deep.equal([
        'C-1',
        'C-1',
        'C-2',
        'PurposeConfigured',
      ]);
      expect(JSON.parse(whole.emailEvents)).to.deep.equal([facts[0]!.id]);
      expect([whole.last, whole.count]).to.deep.equal([8, 8]);
      // A page ends at the last event read, kept or not: one of no domain events still moves on.
      expect(read(0, 3)).to.include({ last: 3, count: 3 });
      expect(JSON.parse(read(6, 5).events)).to.have.length(1);
      expect(read(7, 5)).to.deep.equal({ events: '[]', emailEvents: '[]', last: 8, count: 1 });
      expect(read(8, 5)).to.include({ count: 0 });

      // The sealed parts of a page's range, read again by the thread that opens them (every stream).
      const sealing = (after: number, last: number) => source.sealedEmails(after, last);
      expect(await sealing(0, 8)).to.deep.equal([0, 2].map((i) => ({ id: facts[i]!.id, sealed: facts[i]!.sealed })));
      expect(await sealing(0, 2)).to.deep.equal([{ id: facts[0]!.id, sealed: facts[0]!.sealed }]);
      expect(await sealing(1, 2)).to.deep.equal([]);
      db.close();
      await source.close();
      await store.close();
    },
  );
});
