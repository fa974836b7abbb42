import { expect } from 'chai';
import { get, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { openTestLedger, type TestLedger } from '../support/ledger.js';
import { person, registered } from '../support/events.js';
import { publish } from '../../src/app/publish.js';
import { issueApiKey } from '../../src/app/issue-api-key.js';
import { createApp } from '../../src/api/app.js';
import { createLogger } from '../../src/log.js';

/**
 * Auditors' replays hold no memory for readers that do not read (issue 24, finding 8: 100 paused
 * readers took the server from 563 to 959 MB): a bounded number at once, beyond it a 429; a reader
 * that takes nothing for a while is cut off.
 */
describe('auditor replays, bounded', function () {
  this.timeout(60_000);
  const STALLED_MS = 400;
  let ledger: TestLedger;
  let server: Server;
  let url: string;
  let token: string;
  const readers: IncomingMessage[] = [];

  before(async () => {
    ledger = await openTestLedger();
    // About 15 MB of records: more than the socket buffers of loopback hold for a reader that pauses.
    const events = Array.from({ length: 12_000 }, () => registered(person()));
    for (let i = 0; i < events.length; i += 500) await publish(ledger, { events: events.slice(i, i + 500) });
    ({ token } = await issueApiKey(ledger, { role: 'auditor', name: 'auditor' }));
    const app = createApp(ledger, createLogger('silent'), {
      maxBodyBytes: 1024 * 1024,
      allowedHosts: ['127.0.0.1'],
      replays: { concurrent: 2, stalledMs: STALLED_MS },
      validateResponses: true,
    });
    server = await new Promise((resolve) => {
      const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
    });
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    readers.forEach((reader) => reader.destroy());
    await new Promise((resolve) => server.close(resolve));
    await ledger.dispose();
  });

  /** A replay whose reader takes the headers, then pauses: it reads no more of the body. */
  const pausedReplay = () =>
    new Promise<IncomingMessage>((resolve, reject) => {
      get(`${url}/v1/audit/events?limit=1000000`, { headers: { authorization: `Bearer ${token}` } }, (response) => {
        response.pause();
        readers.push(response);
        resolve(response);
      }).on('error', reject);
    });
  /** Reads what a paused reader still gets: whether the answer ended whole, and the records in it. */
  const readToTheEnd = (response: IncomingMessage) =>
    new Promise<{ complete: boolean; records: number }>((resolve) => {
      let records = 0;
      const ended = () => resolve({ complete: response.complete, records });
      response.on('data', (chunk: Buffer) => (records += chunk.toString('utf8').split('\n').length - 1));
      response.once('end', ended).once('error', ended).once('close', ended);
      response.resume();
    });
  const replay = () => fetch(`${url}/v1/audit/events?limit=10`, { headers: { authorization: `Bearer ${token}` } });

  it('beyond the replays allowed at once, a 429; once a paused reader is cut off, room again', async () => {
    const paused = await Promise.all([pausedReplay(), pausedReplay()]);
    expect(paused.map((response) => response.statusCode)).to.deep.equal([200, 200]);
    const refused = await replay();
    expect(refused.status).to.equal(429);
    expect(refused.headers.get('retry-after')).to.equal('10');
    expect(((await refused.json()) as { detail: string }).detail).to.match(/2 replays are in progress/);

    // After STALLED_MS the paused readers are cut off: room for a replay again, and what they read
    // once they resume ends short of the log, the connection closed under them.
    await new Promise((resolve) => setTimeout(resolve, STALLED_MS * 3));
    const received = await Promise.all(paused.map(readToTheEnd));
    for (const { complete, records } of received) {
      expect(complete).to.equal(false);
      expect(records).to.be.below(12_000);
    }
    const again = await replay();
    expect(again.status).to.equal(200);
    expect((await again.text()).trim().split('\n')).to.have.length(10);
  });
});
