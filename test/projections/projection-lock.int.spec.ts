import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { ProjectionLock } from '../../src/postgres/projection-lock.js';
import { connectionOptions } from '../../src/postgres/database.js';
import { TEST_DATABASE_URL } from '../support/postgres.js';

const until = async (condition: () => boolean, tries = 100) => {
  for (let i = 0; i < tries && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 50));
};

describe('one active projection runner per projection (PostgreSQL advisory lock)', () => {
  it('runs on one node only; a stand-by takes over when the holder stops', async () => {
    const name = `test-${randomBytes(6).toString('hex')}`;
    const running: string[] = [];
    const runner = (node: string) => () => {
      running.push(node);
      return { stop: () => running.splice(running.indexOf(node), 1) };
    };
    const first = new ProjectionLock(TEST_DATABASE_URL, name, 100).hold(runner('first'), (error) => {
      throw error;
    });
    await until(() => running.length > 0);
    const second = new ProjectionLock(TEST_DATABASE_URL, name, 100).hold(runner('second'), (error) => {
      throw error;
    });
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(running).to.deep.equal(['first']);
    first.stop();
    await until(() => running.includes('second'));
    expect(running).to.deep.equal(['second']);
    second.stop();
  });

  it('the holder stops its runner when its lock connection stalls, and takes the lock again after', async function () {
    this.timeout(30_000);
    const target = new URL(TEST_DATABASE_URL);
    const proxy = spawn(
      process.execPath,
      ['--import', 'tsx', fileURLToPath(new URL('../support/tcp-proxy.ts', import.meta.url)), target.port || '5432'],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    try {
      const [port] = (await once(proxy.stdout!, 'data')) as [Buffer];
      target.host = `127.0.0.1:${String(port).trim()}`;
      let running = 0;
      const lock = new ProjectionLock(
        connectionOptions(target.toString(), 1000),
        `test-${randomBytes(6).toString('hex')}`,
        200,
        200,
      );
      const held = lock.hold(
        () => {
          running++;
          return { stop: () => running-- };
        },
        () => {}, // attempts through the frozen proxy time out: retried
      );
      await until(() => running === 1);
      proxy.kill('SIGSTOP');
      const frozenAt = Date.now();
      await until(() => running === 0, 100);
      expect(running, 'stopped while the connection is frozen').to.equal(0);
      expect(Date.now() - frozenAt).to.be.below(3_000);
      proxy.kill('SIGCONT');
      await until(() => running === 1, 200);
      expect(running, 'running again once the connection is back').to.equal(1);
      held.stop();
    } finally {
      proxy.kill('SIGKILL');
    }
  });
});
