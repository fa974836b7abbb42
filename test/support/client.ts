import { StoreUnavailable } from '../../src/domain/errors.js';
/** Events written with the client's types (so tsc checks them), and a ledger whose database is out of reach. */
import { randomUUID } from 'node:crypto';
import type { PublishedEvent } from '../../src/client/index.js';
import type { EventStore } from '../../src/store/event-store.js';
import type { Person } from './events.js';
import type { TestLedger } from './ledger.js';

/** A registration as an upstream system writes it with the client. */
export const registration = (p: Person, expectedRevision?: number): PublishedEvent => ({
  id: randomUUID(),
  type: 'ContactRegistered',
  contactId: p.contactId,
  organizationId: 'ORG-A',
  occurredAt: '2024-01-10T09:00:00Z',
  ...(expectedRevision === undefined ? {} : { expectedRevision }),
  data: { role: 'individual', firstName: p.firstName, lastName: p.lastName, email: p.email },
});

export const detailsChanged = (p: Person, expectedRevision: number): PublishedEvent => ({
  id: randomUUID(),
  type: 'ContactDetailsChanged',
  contactId: p.contactId,
  organizationId: 'ORG-A',
  occurredAt: '2024-03-01T09:00:00Z',
  expectedRevision,
  data: { phone: p.phone },
});

/**
 * The store of a ledger whose database is out of reach for its next `failures` appends: they fail as
 * an adapter reports a lost connection (StoreUnavailable, its cause the driver's ECONNREFUSED), and
 * the API answers 503 with Retry-After.
 */
export function unreachableFor(ledger: TestLedger, failures: number): void {
  const store = ledger.store;
  let left = failures;
  ledger.store = new Proxy(store, {
    get(target, name) {
      if (name === 'append' && left > 0) {
        return async () => {
          left -= 1;
          const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
          throw new StoreUnavailable('ECONNREFUSED', refused);
        };
      }
      const value = Reflect.get(target, name, target) as unknown;
      return typeof value === 'function' ? value.bind(target) : value;
    },
  }) as EventStore;
}
