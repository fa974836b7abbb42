import { expect } from 'chai';
import { DeadlineExceededError, UnavailableError } from '@eventstore/db-client';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EsdbEventStore } from '../../src/eventstoredb/esdb-event-store.js';
import { EsdbStreams } from '../../src/eventstoredb/esdb-streams.js';
import { ESDB_CLIENT_PACKAGE, importEsdbAdapter } from '../../src/store/server-log.js';
import { LEDGER_EVENT_INDEXES } from '../../src/store/ledger-event-indexes.js';
import { LEDGER_STREAMS } from '../../src/domain/streams.js';
import { StoreUnavailable } from '../../src/domain/errors.js';
import { FakeEsdbClient } from '../support/fake-esdb-client.js';
import { STREAM_OF_EACH_KIND, describeEventStoreContract, newEvent } from './event-store.contract.js';

/**
 * The EventStoreDB adapter without a server (issue 25, item 7): it once read only `contact-`
 * streams of $all, so purposes, API keys, schedules, batch runs and audit checkpoints never
 * reached the projections, the replay nor the verification. What decides it is pure, tested here;
 * the adapter is run through the whole contract suite on an in-memory $all that carries other
 * streams too (system, other applications, another ledger's prefix).
 */
describe('EventStoreDB: the ledger streams of $all', () => {
  const kinds = STREAM_OF_EACH_KIND.map((kind) => kind.stream);

  it('keeps every kind the ledger writes, under its prefix, and nothing else', () => {
    for (const prefix of ['', 'ledger-a-']) {
      const streams = new EsdbStreams(prefix, LEDGER_STREAMS);
      for (const stream of kinds) {
        expect(streams.streamOf(streams.nameOf(stream)), `${prefix}${stream}`).to.equal(stream);
        expect(streams.isLedgerStream(stream)).to.equal(true);
      }
      for (const foreign of ['$$contact-1', '$scavenges', '$et-NoteAdded', 'orders-1', 'purposes-old', 'contact-']) {
        expect(streams.streamOf(prefix + foreign), prefix + foreign).to.equal(null);
      }
    }
    // Another ledger's prefix on the same cluster, seen from each side.
    expect(new EsdbStreams('', LEDGER_STREAMS).streamOf('ledger-b-contact-1')).to.equal(null);
    expect(new EsdbStreams('ledger-a-', LEDGER_STREAMS).streamOf('ledger-b-contact-1')).to.equal(null);
    expect(new EsdbStreams('ledger-a-', LEDGER_STREAMS).streamOf('contact-1')).to.equal(null);
  });

  it("filters the live subscription on the server by each kind's prefix under the ledger's", () => {
    expect(new EsdbStreams('ledger-a-', LEDGER_STREAMS).filterPrefixes()).to.have.members([
      'ledger-a-purposes',
      'ledger-a-api-keys',
      'ledger-a-schedules',
      'ledger-a-subscribers',
      'ledger-a-audit-checkpoints',
      'ledger-a-contact-',
      'ledger-a-batch-',
    ]);
    expect(new EsdbStreams('', LEDGER_STREAMS).filterPrefixes()).to.include('purposes');
  });

  it('refuses a prefix of system streams', () => {
    expect(() => new EsdbStreams('$ledger-', LEDGER_STREAMS)).to.throw(/system streams/);
  });

  it('refuses to append to a stream of no ledger kind: its events would never be read back', async () => {
    const store = EsdbEventStore.withClient(new FakeEsdbClient([]).asClient(), { streams: LEDGER_STREAMS });
    const refused = await store.append([newEvent('contact-A'), newEvent('orders-1')]).then(
      () => null,
      (error: unknown) => error,
    );
    expect((refused as Error).message).to.match(/orders-1 is of no ledger kind/);
    expect(await store.readAll()).to.deep.equal([]);
    await store.close();
  });

  it(`without ${ESDB_CLIENT_PACKAGE}, LEDGER_STORE=eventstoredb fails with one line saying to install it`, async () => {
    // A module that imports the client from a folder with no node_modules: the error Node gives.
    const dir = mkdtempSync(join(tmpdir(), 'ledger-no-esdb-'));
    try {
      const adapter = join(dir, 'adapter.mjs');
      writeFileSync(adapter, `import '${ESDB_CLIENT_PACKAGE}';\n`);
      const failure = await importEsdbAdapter(() => import(adapter)).then(
        () => null,
        (error: unknown) => error as Error,
      );
      expect(failure?.message).to.equal(
        `LEDGER_STORE=eventstoredb needs the optional package ${ESDB_CLIENT_PACKAGE}, which is not installed: ` +
          `run npm install ${ESDB_CLIENT_PACKAGE}`,
      );
      // Any other failure of the import is its own.
      const other = await importEsdbAdapter(() => Promise.reject(new Error('boom'))).catch((e: Error) => e.message);
      expect(other).to.equal('boom');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("a server out of reach: every call fails with the ledger's StoreUnavailable, not the client's error", async () => {
    const client = new FakeEsdbClient([]);
    const store = EsdbEventStore.withClient(client.asClient(), {
      streams: LEDGER_STREAMS,
      mentions: LEDGER_EVENT_INDEXES.mentions,
    });
    await store.append([newEvent('contact-A')]);
    const calls: Array<[string, () => Promise<unknown>]> = [
      ['append', () => store.append([newEvent('contact-A')])],
      ['readStream', () => store.readStream('contact-A')],
      ['readAll', () => store.readAll()],
      ['readFacts', () => store.readFacts()],
      ['readByTypes', () => store.readByTypes(['ContactRegistered'])],
      ['readMentions', () => store.readMentions('A')],
      ['headPosition', () => store.headPosition()],
    ];
    for (const outage of [new UnavailableError(undefined, '14 UNAVAILABLE'), new DeadlineExceededError()]) {
      client.outage = outage;
      for (const [name, call] of calls) {
        const failure = await call().then(
          () => null,
          (error: unknown) => error,
        );
        expect(failure, name).to.be.instanceOf(StoreUnavailable).and.include({ cause: outage });
      }
    }
    client.outage = null;
    expect(await store.readStream('contact-A')).to.have.length(1);
    await store.close();
  });
});

for (const streamPrefix of ['', 'ledger-a-']) {
  describeEventStoreContract(
    `eventstoredb adapter on an in-memory $all (prefix '${streamPrefix}')`,
    async () => {
      const noise = ['$$contact-1', '$scavenges', 'orders-1', 'ledger-b-contact-1', 'ledger-b-purposes', 'contact-'];
      const client = new FakeEsdbClient(streamPrefix ? [...noise, 'contact-1', 'purposes'] : noise);
      const opened: EsdbEventStore[] = [];
      const open = async () => {
        const store = EsdbEventStore.withClient(client.asClient(), {
          streamPrefix,
          streams: LEDGER_STREAMS,
          pollMs: 50,
          mentions: LEDGER_EVENT_INDEXES.mentions,
          fences: LEDGER_EVENT_INDEXES.fences,
        });
        opened.push(store);
        return store;
      };
      return {
        store: await open(),
        openAnother: open,
        dispose: async () => {
          for (const store of opened) await store.close();
        },
      };
    },
    'increasing',
    'stream',
  );
}
