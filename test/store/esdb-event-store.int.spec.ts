import { randomBytes } from 'node:crypto';
import { EsdbEventStore } from '../../src/eventstoredb/esdb-event-store.js';
import { describeEventStoreContract } from './event-store.contract.js';
import { LEDGER_EVENT_INDEXES } from '../../src/store/ledger-event-indexes.js';
import { LEDGER_STREAMS } from '../../src/domain/streams.js';

const connectionString = process.env['ESDB_CONNECTION_STRING'];

if (connectionString) {
  // Each test writes under its own stream prefix, so runs never see each other's events in $all.
  describeEventStoreContract(
    'eventstoredb (ESDB_CONNECTION_STRING)',
    async () => {
      const streamPrefix = `ledger-test-${randomBytes(6).toString('hex')}-`;
      const opened: EsdbEventStore[] = [];
      const open = async () => {
        const store = await EsdbEventStore.open(connectionString, {
          streamPrefix,
          streams: LEDGER_STREAMS,
          pollMs: 100,
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
} else {
  describe('EventStore contract: eventstoredb', () => {
    it(
      'SKIPPED: ESDB_CONNECTION_STRING is not set (e.g. ' +
        'esdb://127.0.0.1:2113?tls=false); no EventStoreDB to test against',
      function () {
        this.skip();
      },
    );
  });
}
