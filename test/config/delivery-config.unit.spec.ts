import { expect } from 'chai';
import { readConfig } from '../../src/config.js';

describe('LEDGER_DELIVERY_ATTEMPTS', () => {
  it('is a number of attempts from 1 to 9999; absent, the delivery keeps its default', () => {
    expect(readConfig({ LEDGER_DELIVERY_ATTEMPTS: '3' }).deliveryAttempts).to.equal(3);
    expect(readConfig({})).to.not.have.property('deliveryAttempts');
    for (const bad of ['0', '-1', 'ten', '2.5', '']) {
      expect(() => readConfig({ LEDGER_DELIVERY_ATTEMPTS: bad }), bad).to.throw(/LEDGER_DELIVERY_ATTEMPTS must be/);
    }
  });
});

describe('LEDGER_DELIVERY_BACKOFF_MS and LEDGER_DELIVERY_MAX_BACKOFF_MS', () => {
  it('are milliseconds from 1 to an hour; absent, the delivery keeps its defaults (0.5 s doubling to 60 s)', () => {
    const config = readConfig({ LEDGER_DELIVERY_BACKOFF_MS: '20', LEDGER_DELIVERY_MAX_BACKOFF_MS: '3600000' });
    expect(config).to.deep.include({ deliveryBackoffMs: 20, deliveryMaxBackoffMs: 3_600_000 });
    expect(readConfig({})).to.not.have.any.keys('deliveryBackoffMs', 'deliveryMaxBackoffMs');
    for (const name of ['LEDGER_DELIVERY_BACKOFF_MS', 'LEDGER_DELIVERY_MAX_BACKOFF_MS']) {
      for (const bad of ['0', '-5', '1.5', '1e3', '', 'fast', '3600001']) {
        expect(() => readConfig({ [name]: bad }), `${name}=${bad}`).to.throw(new RegExp(`${name} must be`));
      }
    }
  });
});

describe('LEDGER_DELIVERY_IN_FLIGHT', () => {
  it('is a number of messages from 1 to 999; absent, the delivery keeps its default (8)', () => {
    expect(readConfig({ LEDGER_DELIVERY_IN_FLIGHT: '16' }).deliveryInFlight).to.equal(16);
    expect(readConfig({})).to.not.have.property('deliveryInFlight');
    for (const bad of ['0', '-1', 'eight', '1.5', '', '1000']) {
      expect(() => readConfig({ LEDGER_DELIVERY_IN_FLIGHT: bad }), bad).to.throw(/LEDGER_DELIVERY_IN_FLIGHT must be/);
    }
  });
});

describe('LEDGER_NATS_IN_FLIGHT', () => {
  it('is a number of messages from 1 to 9999; absent, the delivery keeps its default (128)', () => {
    expect(readConfig({ LEDGER_NATS_IN_FLIGHT: '512' }).natsInFlight).to.equal(512);
    expect(readConfig({})).to.not.have.property('natsInFlight');
    for (const bad of ['0', '-1', 'many', '1.5', '', '10000']) {
      expect(() => readConfig({ LEDGER_NATS_IN_FLIGHT: bad }), bad).to.throw(/LEDGER_NATS_IN_FLIGHT must be/);
    }
  });
});

describe('LEDGER_NATS_URL and LEDGER_NATS_STREAM', () => {
  it('default to the NATS on this machine and the stream LEDGER; a url not nats:// or tls:// is refused', () => {
    expect(readConfig({})).to.deep.include({ natsUrl: 'nats://127.0.0.1:4222', natsStream: 'LEDGER' });
    for (const good of ['nats://nats.internal:4222', 'tls://user:secret@nats.example.com', 'nats://10.0.0.5']) {
      expect(readConfig({ LEDGER_NATS_URL: good }).natsUrl, good).to.equal(good);
    }
    for (const bad of [
      '',
      'http://127.0.0.1:4222',
      'nats://',
      '127.0.0.1:4222',
      'nats://h:4222/path',
      'nats://h?x=1',
    ]) {
      expect(() => readConfig({ LEDGER_NATS_URL: bad }), bad).to.throw(/LEDGER_NATS_URL must be/);
    }
    expect(readConfig({ LEDGER_NATS_STREAM: 'CRM_OUT-1' }).natsStream).to.equal('CRM_OUT-1');
    for (const bad of ['', 'LEDGER.X', 'a b', 'L*', 'L>']) {
      expect(() => readConfig({ LEDGER_NATS_STREAM: bad }), bad).to.throw(/LEDGER_NATS_STREAM must be/);
    }
  });
});
