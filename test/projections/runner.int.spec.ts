import { configurePurpose } from '../../src/app/purposes.js';
import { PURPOSE_CONFIGURED, PURPOSES_STREAM } from '../../src/domain/purposes.js';
import { configureTestPurposes } from '../support/events.js';
import { publish } from '../../src/app/publish.js';
import { expect } from 'chai';
import fc from 'fast-check';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openTestLedger, TEST_STORE, type TestLedger } from '../support/ledger.js';
import { dumpReadModels } from '../support/stored.js';
import { ORDERS } from '../../src/projections/tables.js';
import { ProjectionRunner } from '../../src/projections/runner.js';
import { domainEvents, emailEventIds, ReadModelWindow } from '../../src/projections/fold-batch.js';
import { emailHashes } from '../../src/projections/email-hashes.js';
import { startApi } from '../support/http.js';
import { foldRecencies, recencyOf } from '../../src/domain/recency.js';
import type { EventStore } from '../../src/store/event-store.js';
import { pagesFromWorker } from '../../src/projections/bulk/reader-thread.js';
import { MasterKey } from '../../src/crypto/master-key.js';
import { IntegrityError } from '../../src/domain/errors.js';

const CONTACTS = ['C-1', 'C-2', 'C-3', 'C-4'];
const day = (n: number) => new Date(Date.UTC(2020, 0, 1) + n * 86_400_000).toISOString();

/** Random upstream traffic over a few contacts: every rule of the projection gets exercised. */
const envelope = fc.oneof(
  fc
    .record({ c: fc.constantFrom(...CONTACTS), d: fc.nat(2000), mail: fc.constantFrom('a', 'b', 'shared') })
    .map(({ c, d, mail }) => ({
      type: 'ContactDetailsChanged',
      contactId: c,
      organizationId: 'ORG-A',
      occurredAt: day(d),
      data: { email: `${mail}@example.org` },
    })),
  fc
    .record({
      c: fc.constantFrom(...CONTACTS),
      d: fc.nat(2000),
      kind: fc.constantFrom('TicketSold', 'OptionTaken', 'ReservationMade', 'OptionConfirmed'),
      dated: fc.boolean(),
      until: fc.nat(3000),
      cultural: fc.option(fc.constantFrom(...CONTACTS), { nil: undefined }),
      order: fc.nat(20),
    })
    .map(({ c, d, kind, dated, until, cultural, order }) => ({
      type: kind,
      contactId: c,
      organizationId: 'ORG-A',
      occurredAt: day(d),
      data: {
        orderId: `O-${order}`,
        product: dated ? { kind: 'dated', validUntil: day(until) } : { kind: 'undated' },
        ...(cultural ? { culturalContactId: cultural } : {}),
      },
    })),
  fc
    .record({
      c: fc.constantFrom(...CONTACTS),
      d: fc.nat(2000),
      type: fc.constantFrom('ConsentGiven', 'ConsentWithdrawn'),
      purpose: fc.constantFrom('newsletter', 'sms'),
    })
    .map(({ c, d, type, purpose }) => ({
      type,
      contactId: c,
      organizationId: 'ORG-B',
      occurredAt: day(d),
      data:
        type === 'ConsentGiven'
          ? { purpose, source: 'portal', wordingVersion: 'v1', preChecked: false }
          : { purpose, source: 'form' },
    })),
  fc
    .record({
      c: fc.constantFrom(...CONTACTS),
      d: fc.nat(2000),
      type: fc.constantFrom(
        'WaitingListJoined',
        'MarketingLinkClicked',
        'PaymentReceived',
        'BalanceChanged',
        'LegalHoldPlaced',
        'ProcessingRestricted',
      ),
    })
    .map(({ c, d, type }) => ({
      type,
      contactId: c,
      organizationId: 'ORG-A',
      occurredAt: day(d),
      data: {
        WaitingListJoined: { productId: 'P-1' },
        MarketingLinkClicked: { campaignId: 'CMP', channel: 'sms' },
        PaymentReceived: { orderId: 'O-1', amount: 5 },
        BalanceChanged: { balance: d % 3 === 0 ? 0 : 12, currency: 'EUR' },
        LegalHoldPlaced: { reason: 'litigation' },
        ProcessingRestricted: { reason: 'objection' },
      }[type],
    })),
);
/** A change to a purpose's configuration between two published chunks: judged in log order by every fold. */
const reconfiguration = fc.record({
  code: fc.constantFrom('newsletter', 'sms', 'order'),
  expiryDays: fc.option(fc.integer({ min: 1, max: 900 }), { nil: undefined }),
  prolongedBy: fc.subarray(['MarketingLinkClicked', 'TicketSold', 'ConsentGiven'] as const),
});
const PURPOSE_KINDS = {
  newsletter: { kind: 'consent', channel: 'email' },
  sms: { kind: 'consent', channel: 'sms' },
  order: { kind: 'legalBasis', channel: 'all' },
} as const;
const registrations = CONTACTS.map((contactId, i) => ({
  type: 'ContactRegistered',
  contactId,
  organizationId: 'ORG-A',
  occurredAt: day(i),
  data: {
    role: i === 3 ? 'structure' : 'individual',
    ...(i < 3 ? { email: `${contactId.toLowerCase()}@example.org` } : {}),
  },
}));

/** A store wrapper that records where each read started: to see that a restart resumes exactly. */
function recordingReads(store: EventStore, afters: number[]): EventStore {
  return new Proxy(store, {
    get(target, property, receiver) {
      if (property === 'readFacts')
        return (options: { after?: number; limit?: number }) => {
          afters.push(options.after ?? 0);
          return target.readFacts(options);
        };
      return Reflect.get(target, property, receiver);
    },
  });
}

describe('projection runner and read models', function () {
  this.timeout(120_000);
  let ledger: TestLedger;
  /** The log's record at a position: what a commit's checkpoint points at. */
  const recordAt = async (position: number) => {
    const [record] = await ledger.store.readAll({ after: position - 1, limit: 1 });
    return { position, hash: record!.hash };
  };
  beforeEach(async () => (ledger = await openTestLedger()));
  afterEach(() => ledger.dispose());

  it(
    'incrementally maintained read models equal a full rebuild, and recency equals the pure model, ' +
      'while purposes are reconfigured (property)',
    async () => {
      await configureTestPurposes(ledger);
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.oneof(fc.array(envelope, { minLength: 1, maxLength: 15 }), reconfiguration), {
            minLength: 1,
            maxLength: 6,
          }),
          fc.integer({ min: 1, max: 7 }),
          async (chunks, batchSize) => {
            await ledger.readModels.reset();
            const published = [registrations, ...chunks];
            const runner = new ProjectionRunner(ledger.store, ledger.readModels, {
              batchSize,
              emailHashes: emailHashes(ledger.keys, ledger.blindIndex),
            });
            const head = await ledger.store.headPosition();
            for (const chunk of published) {
              if (Array.isArray(chunk)) await publish(ledger, { events: chunk });
              else {
                const { code, expiryDays, prolongedBy } = chunk;
                const settings = { ...PURPOSE_KINDS[code], ...(expiryDays ? { expiryDays } : {}), prolongedBy };
                await configurePurpose(ledger, code, settings);
              }
              await runner.catchUp();
            }
            const incremental = await dumpReadModels(ledger);
            await runner.rebuild();
            expect(await dumpReadModels(ledger)).to.deep.equal(incremental);
            // Recency of every contact equals the pure fold over the whole log.
            const log = (await ledger.store.readAll({ limit: 100_000 })).map((e) =>
              e.stream === PURPOSES_STREAM
                ? {
                    type: PURPOSE_CONFIGURED as typeof PURPOSE_CONFIGURED,
                    position: e.position,
                    occurredAt: e.occurredAt,
                    data: e.data as never,
                  }
                : { ...e, type: e.type as never, contactId: e.stream.slice('contact-'.length) },
            );
            const model = foldRecencies(log);
            for (const contactId of CONTACTS) {
              expect((await ledger.readModels.contact(contactId))?.recency, contactId).to.deep.equal(
                recencyOf(model.get(contactId)!),
              );
            }
            expect(head).to.be.at.least(0);
          },
        ),
        { numRuns: 25 },
      );
    },
  );

  it('stopped in the middle of a catch-up and restarted, it loses and repeats nothing', async () => {
    const events = Array.from({ length: 2400 }, (_, i) => ({
      type: 'MarketingLinkClicked',
      contactId: `C-${i % 300}`,
      organizationId: 'ORG-A',
      occurredAt: day(i),
      data: { campaignId: 'CMP', channel: 'email' },
    }));
    for (let i = 0; i < events.length; i += 600) await publish(ledger, { events: events.slice(i, i + 600) });
    const afters: number[] = [];
    const store = recordingReads(ledger.store, afters);
    let batches = 0;
    const first = new ProjectionRunner(store, ledger.readModels, { batchSize: 500 });
    expect(
      await first.catchUp(
        () => batches++,
        () => batches === 2,
      ),
    ).to.equal(1000);
    expect(await ledger.readModels.checkpoint('read-models')).to.equal(1000);

    const restarted = new ProjectionRunner(store, ledger.readModels, { batchSize: 500 });
    expect(await restarted.catchUp()).to.equal(2400);
    expect(afters).to.deep.equal([0, 500, 1000, 1500, 2000]);
    const incremental = await dumpReadModels(ledger);
    await restarted.rebuild();
    expect(await dumpReadModels(ledger)).to.deep.equal(incremental);
    expect((await ledger.readModels.contact('C-7'))?.recency?.date).to.equal(day(2107));
  });

  it('a rebuild in many small windows equals the incremental read models; one stopped replaces nothing', async () => {
    // Sales prolong the newsletter and bring the "order" legal basis back: windows load consents for them too.
    await configurePurpose(ledger, 'newsletter', {
      ...PURPOSE_KINDS.newsletter,
      expiryDays: 400,
      prolongedBy: ['TicketSold'],
    });
    await configurePurpose(ledger, 'sms', PURPOSE_KINDS.sms);
    await configurePurpose(ledger, 'order', PURPOSE_KINDS.order);
    const events = Array.from({ length: 6000 }, (_, i) => ({
      type: i % 3 === 0 ? 'TicketSold' : 'ConsentGiven',
      contactId: `C-${i % 40}`,
      organizationId: 'ORG-A',
      occurredAt: day(i % 1500),
      data:
        i % 3 === 0
          ? {
              orderId: `O-${i % 700}`,
              product: { kind: 'dated', validUntil: day((i * 7) % 2500) },
              culturalContactId: `C-${(i + 1) % 40}`,
            }
          : { purpose: i % 2 ? 'newsletter' : 'sms', source: 'portal', wordingVersion: 'v1', preChecked: false },
    }));
    await publish(ledger, { events: registrations });
    for (let i = 0; i < events.length; i += 1000) await publish(ledger, { events: events.slice(i, i + 1000) });
    const hashes = emailHashes(ledger.keys, ledger.blindIndex);
    // Incremental: a window committed at each page of the log, each loading and writing its rows.
    const head = await ledger.store.headPosition();
    expect(head).to.equal(6007);
    const incremental = new ProjectionRunner(ledger.store, ledger.readModels, { emailHashes: hashes, windowRows: 1 });
    expect(await incremental.catchUp()).to.equal(head);
    expect(await ledger.readModels.checkpoint('read-models')).to.equal(head);
    const expected = await dumpReadModels(ledger);

    // Windows of 50 rows: every window after the first loads the rows it folds over.
    let pages = 0;
    const windowed = new ProjectionRunner(ledger.store, ledger.readModels, {
      emailHashes: hashes,
      windowRows: 50,
    });
    // Stopped after three pages: its new tables are dropped, the read models stay whole, at the head.
    const stoppedAt = await windowed.rebuild(
      () => pages++,
      () => pages === 3,
    );
    expect(pages).to.equal(3);
    expect(stoppedAt).to.equal(head);
    expect(await ledger.readModels.checkpoint('read-models')).to.equal(head);
    expect(await dumpReadModels(ledger)).to.deep.equal(expected);
    expect(await windowed.rebuild()).to.equal(head);
    expect(await dumpReadModels(ledger)).to.deep.equal(expected);
  });

  it(
    'the rebuild with the bulk path switched off (no reader thread) writes ' +
      'every read-model row the bulk rebuild writes, blind index included',
    async function () {
      this.timeout(120_000);
      const registered = Array.from({ length: 3000 }, (_, i) => ({
        type: 'ContactRegistered',
        contactId: `C-${i}`,
        organizationId: 'ORG-A',
        occurredAt: day(i % 700),
        data: { role: 'individual', firstName: 'Bulk', email: `Bulk.${i}@Example.org` },
      }));
      const activity = Array.from({ length: 4000 }, (_, i) => ({
        type: 'TicketSold',
        contactId: `C-${i % 3000}`,
        organizationId: 'ORG-B',
        occurredAt: day(800 + (i % 900)),
        data: {
          orderId: `O-${i}`,
          product: { kind: 'dated', validUntil: day(1000 + i) },
          culturalContactId: `C-${(i * 7) % 3000}`,
        },
      }));
      const log = [...registered, ...activity];
      for (let i = 0; i < log.length; i += 1000) await publish(ledger, { events: log.slice(i, i + 1000) });
      const hashes = emailHashes(ledger.keys, ledger.blindIndex);

      await new ProjectionRunner(ledger.store, ledger.readModels, { emailHashes: hashes }).rebuild();
      const inThread = await dumpReadModels(ledger);
      expect(await ledger.runner.rebuild()).to.equal(7000);
      expect(await dumpReadModels(ledger)).to.deep.equal(inThread);
      expect(
        await ledger.readModels.contactsByEmailHash(ledger.blindIndex.email('bulk.2999@example.org')),
      ).to.deep.equal(['C-2999']);

      // A reader thread that cannot open the seals (another master key) fails the rebuild, never skips.
      const wrongKey = new ProjectionRunner(ledger.store, ledger.readModels, {
        emailHashes: hashes,
        bulkPages: pagesFromWorker(ledger.config, MasterKey.generate()),
      });
      const failure = await wrongKey.rebuild().then(
        () => null,
        (error: unknown) => error,
      );
      // It crosses the thread with its class (the errors' registry): a 500, an integrity failure.
      expect(failure).to.be.instanceOf(IntegrityError);
      expect((failure as IntegrityError).status).to.equal(500);
      expect((failure as Error).message).to.match(/master key/);

      // So does a reader thread that cannot open the log it is given, with the driver's own message.
      const garbage = mkdtempSync(join(tmpdir(), 'ledger-garbage-'));
      writeFileSync(join(garbage, 'events.db'), 'not a database '.repeat(100));
      const unreadable =
        TEST_STORE === 'postgres'
          ? { ...ledger.config, databaseUrl: 'postgresql://127.0.0.1:1/test' }
          : { ...ledger.config, dataDir: garbage };
      const broken = new ProjectionRunner(ledger.store, ledger.readModels, {
        emailHashes: hashes,
        bulkPages: pagesFromWorker(unreadable, MasterKey.generate()),
      });
      const readerFailure = await broken
        .rebuild()
        .then(
          () => null,
          (error: unknown) => error,
        )
        .finally(() => rmSync(garbage, { recursive: true }));
      expect(readerFailure).to.be.instanceOf(Error);
      expect((readerFailure as Error).message).to.match(/file is not a database|the database cannot be reached/);
      // A rebuild that failed replaced nothing: the read models are as they were, whole.
      expect(await ledger.readModels.checkpoint('read-models')).to.equal(7000);
      expect(await dumpReadModels(ledger)).to.deep.equal(inThread);
    },
  );

  it('reads during a rebuild see the read models whole: the e-mail look-up, recency, rows and checkpoint', async () => {
    await configureTestPurposes(ledger);
    const log = [
      ...Array.from({ length: 3000 }, (_, i) => ({
        type: 'ContactRegistered',
        contactId: `C-${i}`,
        organizationId: 'ORG-A',
        occurredAt: day(i % 700),
        data: { role: 'individual', firstName: 'Whole', email: `whole.${i}@example.org` },
      })),
      ...Array.from({ length: 4000 }, (_, i) => ({
        type: i % 2 ? 'TicketSold' : 'MarketingLinkClicked',
        contactId: `C-${i % 3000}`,
        organizationId: 'ORG-B',
        occurredAt: day(800 + (i % 900)),
        data:
          i % 2
            ? { orderId: `O-${i}`, product: { kind: 'dated', validUntil: day(1000 + i) } }
            : { campaignId: 'CMP-1', channel: 'email' },
      })),
    ];
    for (let i = 0; i < log.length; i += 1000) await publish(ledger, { events: log.slice(i, i + 1000) });
    await ledger.runner.catchUp();
    const head = await ledger.store.headPosition();
    const { readModels, blindIndex } = ledger;
    const read = async () => ({
      checkpoint: await readModels.checkpoint('read-models'),
      lookUp: await readModels.contactsByEmailHash(blindIndex.email('whole.2999@example.org')),
      recency: (await readModels.recencyBefore('2100-01-01', null, 5000)).items,
      consents: await readModels.consents('C-2'),
      orders: (await readModels.rowsInKeyOrder(ORDERS).next()).value?.length,
    });
    const before = await read();
    expect(before.checkpoint).to.equal(head);
    expect(before.lookUp).to.deep.equal(['C-2999']);
    expect(before.recency).to.have.length(3000);
    const dumped = await dumpReadModels(ledger);

    // Windows of 2,000 rows: the rebuild commits many times, on the reader thread's pages.
    const runner = new ProjectionRunner(ledger.store, ledger.readModels, {
      emailHashes: emailHashes(ledger.keys, blindIndex),
      bulkPages: pagesFromWorker(ledger.config, MasterKey.fromBase64(ledger.config.masterKey!, 'test')),
      windowRows: 2000,
    });
    let done = false;
    const rebuilt = runner.rebuild().finally(() => (done = true));
    let reads = 0;
    while (!done) {
      expect(await read()).to.deep.equal(before);
      reads++;
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(await rebuilt).to.equal(head);
    expect(reads).to.be.greaterThan(5);
    // Swapped in: the same read models (the log is the same), a whole set, with their query indexes.
    expect(await read()).to.deep.equal(before);
    expect(await dumpReadModels(ledger)).to.deep.equal(dumped);
  });

  it(
    'commits a window whose e-mail hashes are still coming: readers ' +
      'see none of it before, all of it after; a failure writes nothing',
    async () => {
      await publish(ledger, { events: registrations });
      const facts = await ledger.store.readFacts({ after: 0, limit: 10 });
      const hashes = await emailHashes(ledger.keys, ledger.blindIndex)(facts);
      const window = new ReadModelWindow();
      await ledger.readModels.fold(window, domainEvents(facts), emailEventIds(facts));
      let deliver: (hashes: ReadonlyMap<string, string>) => void = () => {};
      const committing = ledger.readModels.commit(
        'read-models',
        window,
        await recordAt(4),
        new Promise((resolve) => (deliver = resolve)),
      );
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(await ledger.readModels.contact('C-1')).to.equal(null);
      expect(await ledger.readModels.checkpoint('read-models')).to.equal(0);
      deliver(hashes);
      await committing;
      expect((await ledger.readModels.contact('C-1'))?.role).to.equal('individual');
      expect(await ledger.readModels.contactsByEmailHash(ledger.blindIndex.email('c-1@example.org'))).to.deep.equal([
        'C-1',
      ]);
      expect(await ledger.readModels.checkpoint('read-models')).to.equal(4);

      await publish(ledger, {
        events: [
          {
            type: 'WaitingListJoined',
            contactId: 'C-2',
            organizationId: 'ORG-A',
            occurredAt: day(50),
            data: { productId: 'P' },
          },
        ],
      });
      const next = await ledger.store.readFacts({ after: 4, limit: 10 });
      const failing = new ReadModelWindow();
      await ledger.readModels.fold(failing, domainEvents(next), emailEventIds(next));
      const unopenable = Promise.reject(new RangeError('cannot open a seal'));
      unopenable.catch(() => {}); // awaited by the commit, later
      const failure = await ledger.readModels
        .commit('read-models', failing, await recordAt(5), unopenable)
        .catch((error: unknown) => error);
      expect(failure).to.be.instanceOf(RangeError);
      expect(await ledger.readModels.checkpoint('read-models')).to.equal(4);
      expect((await ledger.readModels.contact('C-2'))?.recency?.date).to.equal(day(1));

      // The rows the failed window folded in place went with it: the next window starts from storage.
      expect(await ledger.runner.catchUp()).to.equal(5);
      expect((await ledger.readModels.contact('C-2'))?.recency?.date).to.equal(day(50));
      const caughtUp = await dumpReadModels(ledger);
      await ledger.runner.rebuild();
      expect(await dumpReadModels(ledger)).to.deep.equal(caughtUp);
    },
  );

  it('rebuilds an empty log, twice in a row, then catches up what comes next', async () => {
    expect(await ledger.runner.rebuild()).to.equal(0);
    expect(await ledger.runner.rebuild()).to.equal(0);
    await publish(ledger, { events: registrations });
    expect(await ledger.runner.catchUp()).to.equal(4);
    expect(
      (await ledger.readModels.recencyBefore(day(10), null, 10)).items.map((item) => item.contactId),
    ).to.deep.equal(CONTACTS);
  });

  it('follows live appends and reports its lag', async () => {
    await publish(ledger, { events: registrations });
    const subscription = ledger.runner.follow(await ledger.readModels.checkpoint('read-models'), (error) => {
      throw error;
    });
    await publish(ledger, {
      events: [
        {
          type: 'WaitingListJoined',
          contactId: 'C-2',
          organizationId: 'ORG-A',
          occurredAt: day(50),
          data: { productId: 'P' },
        },
      ],
    });
    for (let i = 0; i < 50 && (await ledger.runner.lag()).lag > 0; i++)
      await new Promise((resolve) => setTimeout(resolve, 50));
    subscription.unsubscribe();
    expect(await ledger.runner.lag()).to.deep.equal({ position: 5, head: 5, lag: 0, failed: null, logMismatch: null });
    expect((await ledger.readModels.contact('C-2'))?.recency?.date).to.equal(day(50));
  });

  it('follows a burst in windows of all that came, at most one pass per 50 ms, ending as a rebuild ends', async () => {
    await publish(ledger, { events: registrations });
    let commits = 0;
    const counted = new Proxy(ledger.readModels, {
      get(target, property, receiver) {
        if (property !== 'commit') return Reflect.get(target, property, receiver);
        return (...args: Parameters<typeof target.commit>) => {
          commits++;
          return target.commit(...args);
        };
      },
    });
    const runner = new ProjectionRunner(ledger.store, counted, {
      emailHashes: emailHashes(ledger.keys, ledger.blindIndex),
    });
    const started = performance.now();
    const following = runner.follow(0, (error) => {
      throw error;
    });
    const appends = 40;
    for (let i = 0; i < appends; i++) {
      await publish(ledger, {
        events: Array.from({ length: 50 }, (_, j) => ({
          type: 'MarketingLinkClicked',
          contactId: CONTACTS[(i + j) % CONTACTS.length]!,
          organizationId: 'ORG-A',
          occurredAt: day(i * 50 + j),
          data: { campaignId: 'CMP', channel: 'email' },
        })),
      });
    }
    const head = await ledger.store.headPosition();
    for (let i = 0; i < 100 && (await runner.lag()).lag > 0; i++) await new Promise((r) => setTimeout(r, 50));
    const elapsed = performance.now() - started;
    following.unsubscribe();
    expect(await runner.lag()).to.deep.equal({ position: head, head, lag: 0, failed: null, logMismatch: null });
    expect(commits).to.be.at.most(1 + Math.ceil(elapsed / 50));
    expect(commits).to.be.below(appends);
    const followed = await dumpReadModels(ledger);
    await runner.rebuild();
    expect(await dumpReadModels(ledger)).to.deep.equal(followed);
  });

  it('a batch that fails stops the runner, never skipped: the lag grows and the failure is reported', async () => {
    await publish(ledger, { events: registrations });
    let reported: unknown = null;
    const failing = new ProjectionRunner(ledger.store, ledger.readModels, {
      emailHashes: async () => {
        throw new RangeError('cannot open a seal');
      },
    });
    failing.follow(0, (error) => (reported = error));
    for (let i = 0; i < 50 && !reported; i++) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(reported).to.be.instanceOf(RangeError);
    expect(await failing.lag()).to.deep.equal({
      position: 0,
      head: 4,
      lag: 4,
      failed: 'RangeError',
      logMismatch: null,
    });
  });

  it('a long catch-up leaves the server answering: /health reports the lag while it shrinks', async function () {
    this.timeout(120_000);
    const events = Array.from({ length: 12_000 }, (_, i) => ({
      type: 'WaitingListJoined',
      contactId: `C-${i % 3000}`,
      organizationId: 'ORG-A',
      occurredAt: day(i % 2000),
      data: { productId: 'P' },
    }));
    for (let i = 0; i < events.length; i += 1000) await publish(ledger, { events: events.slice(i, i + 1000) });
    const api = await startApi(ledger);
    const running = ledger.runner.run((error) => {
      throw error;
    });
    const lags: number[] = [];
    for (let i = 0; i < 400; i++) {
      const health = await api.get('/health');
      lags.push(health.body.projection.lag);
      if (health.body.projection.lag === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    running.stop();
    await api.close();
    expect(lags.at(-1)).to.equal(0);
    expect(
      lags.some((lag) => lag > 0),
      'answered while catching up',
    ).to.equal(true);
  });

  it('keeps no personal data: a byte search of state.db finds none of the published values', async () => {
    await publish(ledger, {
      type: 'ContactRegistered',
      contactId: 'C-P',
      organizationId: 'ORG-A',
      occurredAt: day(1),
      data: {
        role: 'individual',
        firstName: 'Zebulon',
        email: 'zebulon.unique@example.org',
        address: { town: 'Lyon', street: '9 impasse Secrète' },
      },
    });
    await ledger.runner.catchUp();
    const state = JSON.stringify(await dumpReadModels(ledger));
    expect(state).to.contain('C-P');
    for (const value of ['Zebulon', 'zebulon.unique@example.org', 'impasse Secrète'])
      expect(state).not.to.contain(value);
  });
});
