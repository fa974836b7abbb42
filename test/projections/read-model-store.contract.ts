import { expect } from 'chai';
import { INACTIVITY_COLUMNS, type ReadModelStore } from '../../src/projections/read-model-store.js';
import { CONSENTS, CONTACTS, EMAIL_INDEX, ORDERS, type Row } from '../../src/projections/tables.js';
import { ROLES } from '../../src/domain/catalog.js';

export interface ReadModelStoreHandle {
  store: ReadModelStore;
  /** A second store on the same storage, as another process (or the API's reads) would open it. */
  openAnother(): Promise<ReadModelStore>;
  dispose(): Promise<void>;
}

/** Every role: the recency list unfiltered. */
const ANY_ROLE = ROLES;

const contact = (contactId: string, overrides: Partial<Row<typeof CONTACTS>> = {}): Row<typeof CONTACTS> => ({
  contact_id: contactId,
  role: 'individual',
  status: 'active',
  customer: 0,
  balance: 0,
  currency: null,
  restricted: 0,
  legal_hold: 0,
  registered_at: '2020-01-01T00:00:00.000Z',
  registered_event: `E-${contactId}`,
  registered_position: 1,
  activity_at: null,
  activity_event: null,
  activity_position: null,
  recency_at: '2020-01-01T00:00:00.000Z',
  recency_event: `E-${contactId}`,
  consent_answers: ',',
  valid_until: null,
  head_position: 1,
  proof: null,
  ...overrides,
});

/** What every read-model storage must do: plain rows, written with their checkpoint exactly once. */
export function describeReadModelStoreContract(name: string, open: () => Promise<ReadModelStoreHandle>) {
  describe(`ReadModelStore contract: ${name}`, () => {
    let handle: ReadModelStoreHandle;
    let store: ReadModelStore;
    beforeEach(async () => {
      handle = await open();
      store = handle.store;
    });
    afterEach(() => handle.dispose());

    it('reads back every row as written: nulls, flags, reals and positions beyond 32 bits', async () => {
      const full = contact('C-1', {
        customer: 1,
        balance: -12.5,
        currency: 'EUR',
        legal_hold: 1,
        activity_at: '2024-05-01T10:00:00.000Z',
        activity_event: 'E-9',
        activity_position: 2 ** 40,
      });
      const order = {
        order_id: 'O-1',
        contact_id: 'C-1',
        first_position: 7,
        earliest_end: '2024-05-01T10:00:00.000Z',
        purged: 1 as const,
      };
      await store.commit('models', 12, async (writes) => {
        await writes.upsert(CONTACTS, [full, contact('C-2', { role: null, recency_at: null, recency_event: null })]);
        await writes.upsert(ORDERS, [order]);
      });
      expect(await store.rows(CONTACTS, 'contact_id', ['C-1', 'C-unknown'])).to.deep.equal([full]);
      expect((await store.rows(CONTACTS, 'contact_id', ['C-2']))[0]).to.include({ role: null, recency_at: null });
      expect(await store.rows(ORDERS, 'contact_id', ['C-1'])).to.deep.equal([order]);
      expect(await store.checkpoint('models')).to.equal(12);
      expect(await store.checkpoint('another')).to.equal(0);
    });

    it('an upsert replaces the row of the same key, every column; a delete removes rows by a column', async () => {
      const consent = (purpose: string, status: string) => ({
        contact_id: 'C-1',
        purpose,
        status,
        changed_at: '2024-01-01T00:00:00.000Z',
        last_activity_at: '2024-01-01T00:00:00.000Z',
      });
      await store.commit('models', 1, async (writes) => {
        await writes.upsert(CONSENTS, [consent('newsletter', 'yes'), consent('sms', 'no')]);
        await writes.upsert(EMAIL_INDEX, [
          { contact_id: 'C-1', email_hash: 'h1' },
          { contact_id: 'C-2', email_hash: 'h1' },
        ]);
      });
      await store.commit('models', 2, async (writes) => {
        await writes.upsert(CONSENTS, [consent('newsletter', 'no')]);
        await writes.upsert(EMAIL_INDEX, [{ contact_id: 'C-2', email_hash: 'h2' }]);
        await writes.delete(EMAIL_INDEX, 'contact_id', ['C-1', 'C-unknown']);
      });
      const consents = await store.rows(CONSENTS, 'contact_id', ['C-1']);
      expect(consents.map((row) => [row.purpose, row.status]).sort()).to.deep.equal([
        ['newsletter', 'no'],
        ['sms', 'no'],
      ]);
      expect(await store.contactsByEmailHash('h1')).to.deep.equal([]);
      expect(await store.contactsByEmailHash('h2')).to.deep.equal(['C-2']);
    });

    it('a commit whose writing fails writes nothing and leaves the checkpoint where it was', async () => {
      await store.commit('models', 3, async (writes) => writes.upsert(CONTACTS, [contact('C-1')]));
      const failure = await store
        .commit('models', 4, async (writes) => {
          await writes.upsert(CONTACTS, [contact('C-1', { status: 'erased' }), contact('C-2')]);
          throw new RangeError('cannot open a seal');
        })
        .catch((error: unknown) => error);
      expect(failure).to.be.instanceOf(RangeError);
      expect(await store.checkpoint('models')).to.equal(3);
      expect((await store.rows(CONTACTS, 'contact_id', ['C-1', 'C-2'])).map((row) => row.status)).to.deep.equal([
        'active',
      ]);
      await store.commit('models', 5, async (writes) => writes.upsert(CONTACTS, [contact('C-2')]));
      expect(await store.checkpoint('models')).to.equal(5);
    });

    it('a commit that awaits while it writes is seen by other readers all at once, never half done', async () => {
      const reader = await handle.openAnother();
      let release: () => void = () => {};
      let paused: () => void = () => {};
      const halfWritten = new Promise<void>((resolve) => (paused = resolve));
      const committing = store.commit('models', 9, async (writes) => {
        await writes.upsert(CONTACTS, [contact('C-1')]);
        await new Promise<void>((resolve) => {
          release = resolve;
          paused();
        });
        await writes.upsert(EMAIL_INDEX, [{ contact_id: 'C-1', email_hash: 'h' }]);
      });
      await halfWritten;
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(await reader.rows(CONTACTS, 'contact_id', ['C-1'])).to.deep.equal([]);
      expect(await reader.checkpoint('models')).to.equal(0);
      release();
      await committing;
      expect(await reader.rows(CONTACTS, 'contact_id', ['C-1'])).to.have.length(1);
      expect(await reader.contactsByEmailHash('h')).to.deep.equal(['C-1']);
      expect(await reader.checkpoint('models')).to.equal(9);
    });

    it('a commit failing after 45,000 rows (several statements) writes none; the next carries none', async () => {
      const many = Array.from({ length: 45_000 }, (_, i) => contact(`C-${i}`));
      const failure = await store
        .commit('models', 3, async (writes) => {
          await writes.upsert(CONTACTS, many);
          throw new RangeError('cannot open a seal');
        })
        .catch((error: unknown) => error);
      expect(failure).to.be.instanceOf(RangeError);
      expect(await store.checkpoint('models')).to.equal(0);
      expect(await store.rows(CONTACTS, 'contact_id', ['C-0', 'C-44999'])).to.deep.equal([]);
      await store.commit('models', 4, (writes) => writes.upsert(CONTACTS, [contact('C-new')]));
      expect((await store.rows(CONTACTS, 'contact_id', ['C-0', 'C-new'])).map((row) => row.contact_id)).to.deep.equal([
        'C-new',
      ]);
      expect(await store.checkpoint('models')).to.equal(4);
    });

    it('pages contacts by recency then id, bytewise, after a keyset position; no recency, no row', async () => {
      const at = (day: number) => new Date(Date.UTC(2020, 0, day)).toISOString();
      await store.commit('models', 1, async (writes) =>
        writes.upsert(CONTACTS, [
          contact('C-b', { recency_at: at(2) }),
          contact('C-B', { recency_at: at(2) }),
          contact('C-a', { recency_at: at(1) }),
          contact('C-late', { recency_at: at(20) }),
          contact('C-none', { recency_at: null }),
        ]),
      );
      const first = await store.recencyPage(at(10), ANY_ROLE, null, 2);
      expect(first.map((row) => row.contact_id)).to.deep.equal(['C-a', 'C-B']);
      const next = await store.recencyPage(at(10), ANY_ROLE, { recency: first[1]!.recency_at!, contactId: 'C-B' }, 2);
      expect(next).to.deep.equal([contact('C-b', { recency_at: at(2) })]);
    });

    it('pages only the roles asked for, the keyset going on past the rows of other roles', async () => {
      const at = (day: number) => new Date(Date.UTC(2020, 0, day)).toISOString();
      await store.commit('models', 1, async (writes) =>
        writes.upsert(CONTACTS, [
          contact('C-1', { recency_at: at(1), role: 'structure' }),
          contact('C-2', { recency_at: at(2) }),
          contact('C-3', { recency_at: at(3), role: 'supplier' }),
          contact('C-4', { recency_at: at(3), role: 'relay' }),
          contact('C-5', { recency_at: at(4), role: 'structure' }),
          contact('C-6', { recency_at: at(5) }),
        ]),
      );
      const ids = (rows: Array<Row<typeof CONTACTS>>) => rows.map((row) => [row.contact_id, row.role]);
      const batch = ['individual', 'relay'];
      const first = await store.recencyPage(at(10), batch, null, 2);
      expect(ids(first)).to.deep.equal([
        ['C-2', 'individual'],
        ['C-4', 'relay'],
      ]);
      expect(ids(await store.recencyPage(at(10), batch, { recency: at(3), contactId: 'C-4' }, 2))).to.deep.equal([
        ['C-6', 'individual'],
      ]);
      expect(
        ids(await store.recencyPage(at(10), ['structure'], { recency: at(1), contactId: 'C-1' }, 5)),
      ).to.deep.equal([['C-5', 'structure']]);
      expect(await store.recencyPage(at(10), ['guide'], null, 5)).to.deep.equal([]);
      expect(await store.recencyPage(at(10), ANY_ROLE, null, 10)).to.have.length(6);
    });

    it('walks the listed contacts older than a date in id order, with the columns a batch reads', async () => {
      const old = '2020-01-05T00:00:00.000Z';
      await store.commit('models', 1, async (writes) =>
        writes.upsert(CONTACTS, [
          contact('C-3', {
            recency_at: old,
            customer: 1,
            balance: 2.5,
            valid_until: old,
            head_position: 7,
            proof: 'p3',
          }),
          contact('C-1', { recency_at: old, legal_hold: 1 }),
          contact('C-2', { recency_at: '2029-01-01T00:00:00.000Z' }),
          contact('C-4', { recency_at: old, status: 'erased' }),
          contact('C-5', { recency_at: old, role: 'relay' }),
        ]),
      );
      const first = await store.inactivityPage('2025-01-01', '', 2);
      // Each row as its values, in the order of its columns.
      expect(INACTIVITY_COLUMNS).to.deep.equal([
        'contact_id',
        'role',
        'status',
        'customer',
        'balance',
        'legal_hold',
        'registered_event',
        'recency_at',
        'valid_until',
        'head_position',
        'proof',
      ]);
      expect(first).to.deep.equal([
        ['C-1', 'individual', 'active', 0, 0, 1, 'E-C-1', old, null, 1, null],
        ['C-3', 'individual', 'active', 1, 2.5, 0, 'E-C-3', old, old, 7, 'p3'],
      ]);
      const rest = await store.inactivityPage('2025-01-01', 'C-3', 2);
      expect(rest.map(([contactId]) => contactId)).to.deep.equal(['C-5']);
    });

    // A mixed order (one ticket ended, one still valid) is proposed by its earliest end: its
    // stream decides which tickets go (V2 page: per ticket, not per order).
    it('walks the orders not wholly purged with a ticket ended before a date, in order id order', async () => {
      const order = (orderId: string, earliestEnd: string, purged: 0 | 1 = 0) => ({
        order_id: orderId,
        contact_id: `C-${orderId}`,
        first_position: 1,
        earliest_end: earliestEnd,
        purged,
      });
      await store.commit('models', 1, async (writes) =>
        writes.upsert(ORDERS, [
          order('O-3', '2020-01-01T00:00:00.000Z'),
          order('O-1', '2021-01-01T00:00:00.000Z'),
          order('O-2', '2020-01-01T00:00:00.000Z', 1),
          order('O-4', '2029-01-01T00:00:00.000Z'),
          order('O-5', '2025-01-01T00:00:00.000Z'),
          order('O-6', '2020-02-01T00:00:00.000Z'),
        ]),
      );
      const first = await store.purgeablePage('2025-01-01', '', 2);
      expect(first).to.deep.equal([
        { order_id: 'O-1', contact_id: 'C-O-1' },
        { order_id: 'O-3', contact_id: 'C-O-3' },
      ]);
      expect(await store.purgeablePage('2025-01-01', 'O-3', 2)).to.deep.equal([
        { order_id: 'O-6', contact_id: 'C-O-6' },
      ]);
    });

    it('lists neither forgotten contacts nor ids only ever named as a cultural contact', async () => {
      const old = '2020-01-05T00:00:00.000Z';
      await store.commit('models', 1, async (writes) =>
        writes.upsert(CONTACTS, [
          contact('C-active', { recency_at: old }),
          contact('C-anonymized', { recency_at: old, status: 'anonymized' }),
          contact('C-erased', { recency_at: old, status: 'erased' }),
          contact('C-cultural', { recency_at: old, role: null, registered_at: null, registered_event: null }),
        ]),
      );
      const listed = await store.recencyPage('2030-01-01', ANY_ROLE, null, 10);
      expect(listed.map((row) => row.contact_id)).to.deep.equal(['C-active']);
    });

    it('a rebuild writes tables no reader sees, swapped in whole with the checkpoint, or dropped', async () => {
      await store.commit('models', 8, async (writes) => {
        await writes.upsert(CONTACTS, [contact('C-old')]);
        await writes.upsert(EMAIL_INDEX, [{ contact_id: 'C-old', email_hash: 'h-old' }]);
      });
      const listed = async () =>
        (await store.recencyPage('2030-01-01', ANY_ROLE, null, 10)).map((row) => row.contact_id);
      const seesOld = async () => {
        expect(await store.checkpoint('models')).to.equal(8);
        expect(await listed()).to.deep.equal(['C-old']);
        expect(await store.contactsByEmailHash('h-old')).to.deep.equal(['C-old']);
        expect(await store.contactsByEmailHash('h-new')).to.deep.equal([]);
      };
      const given = await store.rebuildTarget();
      expect(await given.store.checkpoint('models')).to.equal(0);
      await given.store.commit('models', 3, async (writes) => writes.upsert(CONTACTS, [contact('C-given-up')]));
      await given.discard();
      await seesOld();

      const target = await store.rebuildTarget();
      expect(await target.store.rows(CONTACTS, 'contact_id', ['C-given-up'])).to.deep.equal([]);
      await target.store.commit('models', 5, async (writes) => {
        await writes.upsert(CONTACTS, [contact('C-new'), contact('C-gone')]);
        await writes.upsert(EMAIL_INDEX, [{ contact_id: 'C-new', email_hash: 'h-new' }]);
      });
      await target.store.commit('models', 9, async (writes) => {
        await writes.upsert(CONTACTS, [contact('C-new', { status: 'anonymized' }), contact('C-next')]);
        await writes.delete(EMAIL_INDEX, 'contact_id', ['C-new']);
      });
      expect(await target.store.checkpoint('models')).to.equal(9);
      expect((await target.store.rows(CONTACTS, 'contact_id', ['C-new']))[0]?.status).to.equal('anonymized');
      await seesOld();
      await target.swapIn();
      expect(await store.checkpoint('models')).to.equal(9);
      expect(await listed()).to.deep.equal(['C-gone', 'C-next']);
      expect(await store.contactsByEmailHash('h-old')).to.deep.equal([]);
      expect(await store.contactsByEmailHash('h-new')).to.deep.equal([]);
      // The swapped-in tables take commits and further rebuilds as the first ones did.
      await store.commit('models', 10, async (writes) => writes.upsert(CONTACTS, [contact('C-after')]));
      expect(await listed()).to.deep.equal(['C-after', 'C-gone', 'C-next']);
      const again = await store.rebuildTarget();
      await again.store.commit('models', 10, async (writes) => writes.upsert(CONTACTS, [contact('C-again')]));
      await again.swapIn();
      expect(await listed()).to.deep.equal(['C-again']);
    });

    it('a reset empties every read model and checkpoint; the next commit writes on bare tables', async () => {
      await store.commit('models', 8, async (writes) => {
        await writes.upsert(CONTACTS, [contact('C-1')]);
        await writes.upsert(EMAIL_INDEX, [{ contact_id: 'C-1', email_hash: 'h' }]);
      });
      await store.reset();
      expect(await store.checkpoint('models')).to.equal(0);
      expect(await store.rows(CONTACTS, 'contact_id', ['C-1'])).to.deep.equal([]);
      expect(await store.contactsByEmailHash('h')).to.deep.equal([]);
      await store.commit('models', 2, async (writes) => writes.upsert(CONTACTS, [contact('C-2')]));
      expect((await store.recencyPage('2030-01-01', ANY_ROLE, null, 10)).map((row) => row.contact_id)).to.deep.equal([
        'C-2',
      ]);
    });

    it('keeps each delivery checkpoint and its dead letters, through a reset and another process', async () => {
      expect(await store.deliveryCheckpoint('S-1')).to.equal(0);
      const letter = {
        subscriberId: 'S-1',
        name: 'mailing-tool',
        eventId: 'E-7',
        position: 2 ** 40 - 3,
        attempts: 8,
        error: 'HTTP 500',
        failedAt: '2026-03-01T10:00:00.000Z',
        replay: false,
      };
      await store.advanceDelivery('S-1', 'mailing-tool', 2 ** 40, [letter]);
      await store.advanceDelivery('S-2', 'warehouse', 5, []);
      // A rebuild of the read models delivers nothing again: the checkpoints are no fold of the log.
      await store.reset();
      const another = await handle.openAnother();
      expect(await another.deliveryCheckpoint('S-1')).to.equal(2 ** 40);
      expect(await another.deliveryCheckpoint('S-2')).to.equal(5);
      expect(await another.deadLetters('S-1')).to.deep.equal([letter]);
      expect(await another.deadLetters('S-2')).to.deep.equal([]);
    });

    it("keeps how a subscriber's delivery goes with its checkpoint, through a reset and another process", async () => {
      expect(await store.deliveryHealth('S-1')).to.deep.equal({ lastDelivery: null, lastFailure: null, failing: null });
      const health = {
        lastDelivery: { eventId: 'E-9', position: 2 ** 40, at: '2026-03-01T10:00:00.000Z' },
        lastFailure: { error: 'ECONNREFUSED', at: '2026-03-01T10:05:00.000Z' },
        failing: { since: '2026-03-01T10:01:00.000Z', attempts: 12 },
      };
      await store.advanceDelivery('S-1', 'crm', 2 ** 40, [], health);
      await store.advanceDelivery('S-1', 'crm', 2 ** 40 + 1, []); // without health: kept as it was
      await store.reset();
      const another = await handle.openAnother();
      expect(await another.deliveryHealth('S-1')).to.deep.equal(health);
      expect(await another.deliveryCheckpoint('S-1')).to.equal(2 ** 40 + 1);
    });

    it('marks dead letters for a replay; one replayed is removed when delivered, else failed again', async () => {
      const letter = (eventId: string, position: number) => ({
        subscriberId: 'S-1',
        name: 'crm',
        eventId,
        position,
        attempts: 8,
        error: 'HTTP 503',
        failedAt: '2026-03-01T10:00:00.000Z',
        replay: false,
      });
      await store.advanceDelivery('S-1', 'crm', 9, [letter('E-1', 1), letter('E-2', 2)]);
      await store.advanceDelivery(
        'S-2',
        'other',
        9,
        [letter('E-1', 1)].map((l) => ({ ...l, subscriberId: 'S-2' })),
      );
      await store.replayDeadLetters('S-1');
      expect((await store.deadLetters('S-1')).map((l) => l.replay)).to.deep.equal([true, true]);
      expect((await store.deadLetters('S-2')).map((l) => l.replay)).to.deep.equal([false]);
      await store.settleDeadLetter({ ...letter('E-1', 1), replay: true }, true);
      await store.settleDeadLetter({ ...letter('E-2', 2), replay: true, attempts: 16, error: 'ECONNREFUSED' }, false);
      expect(await store.deadLetters('S-1')).to.deep.equal([
        { ...letter('E-2', 2), attempts: 16, error: 'ECONNREFUSED' },
      ]);
      expect(await store.deliveryCheckpoint('S-1')).to.equal(9);
    });
  });
}
