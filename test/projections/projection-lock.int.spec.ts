import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { ProjectionLock } from '../../src/postgres/projection-lock.js';
import { TEST_DATABASE_URL } from '../support/postgres.js';

const until = async (condition: () => boolean) => {
  for (let i = 0; i < 100 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 50));
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
});
