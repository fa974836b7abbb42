import { expect } from 'chai';
import express from 'express';
import { pino } from 'pino';
import { StoreUnavailable } from '../../src/domain/errors.js';
import { lastKnownWithin } from '../../src/api/last-known.js';
import { problemHandler } from '../../src/api/problem.js';
import { restartOnOutage } from '../../src/store/restart-on-outage.js';

/** What a driver's message may hold: a value of the statement that failed. */
const VALUE = 'ada@example.org';
const outage = () =>
  new StoreUnavailable('57P01', Object.assign(new Error(`terminating connection ... ${VALUE}`), { code: '57P01' }));

/**
 * Shared code knows an outage by its class only (the adapters map their drivers' errors to
 * StoreUnavailable): a 503 with Retry-After, /health's last known answer, the runner waiting it out.
 */
describe('StoreUnavailable in shared code', () => {
  it('is a 503 service-unavailable with Retry-After; neither the answer nor the log quotes the driver', async () => {
    const logged: string[] = [];
    const app = express();
    app.get('/', () => {
      throw outage();
    });
    app.use(problemHandler(pino({ level: 'trace' }, { write: (line: string) => logged.push(line) })));
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const { port } = server.address() as { port: number };
      const answer = await fetch(`http://127.0.0.1:${port}/`);
      const text = await answer.text();
      expect(answer.status).to.equal(503);
      expect(answer.headers.get('retry-after')).to.equal('5');
      expect(JSON.parse(text)).to.include({
        type: 'urn:contact-ledger:problem:service-unavailable',
        title: 'Service unavailable',
        status: 503,
      });
      expect(text + logged.join('')).not.to.contain(VALUE);
      const warning = logged.map((line) => JSON.parse(line)).find((line) => line.msg === 'database unavailable');
      expect(warning).to.deep.include({ level: 40, err: { name: 'Error', code: '57P01' } });
    } finally {
      server.close();
    }
  });

  it('/health gives the last value read when the read is out of reach, and throws anything else', async () => {
    let fail: Error | null = null;
    const read = lastKnownWithin(async () => {
      if (fail) throw fail;
      return 7;
    }, 1000);
    expect(await read()).to.deep.include({ fresh: true, value: 7 });
    fail = outage();
    expect(await read()).to.have.nested.property('last.value', 7);
    fail = new TypeError('a bug');
    await read().then(
      () => expect.fail('a bug is not hidden'),
      (error: unknown) => expect(error).to.equal(fail),
    );
  });

  it('the runner is started again after an outage, and stopped for good by any other failure', async () => {
    const failures: unknown[] = [];
    let starts = 0;
    const running = restartOnOutage(
      (onError) => {
        starts++;
        setImmediate(() => onError(starts === 1 ? outage() : new TypeError('a bug')));
        return { stop: () => {} };
      },
      (error) => failures.push(error),
      { firstDelayMs: 10, maxDelayMs: 10 },
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    running.stop();
    expect(starts).to.equal(2);
    expect(failures.map((error) => (error as Error).name)).to.deep.equal(['StoreUnavailable', 'TypeError']);
  });
});
