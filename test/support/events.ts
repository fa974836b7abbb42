import type { LedgerContext } from '../../src/app/ledger-context.js';
import { configurePurpose } from '../../src/app/purposes.js';
import type { PurposeSettings } from '../../src/domain/purposes.js';
import { randomBytes } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';
/** Envelope builders for tests: realistic upstream messages with known personal values. */
let sequence = 0;

export interface Person {
  contactId: string;
  firstName: string;
  lastName: string;
  email: string;
  phone: string;
  street: string;
  town: string;
  postcode: string;
  country: string;
  ip: string;
}

/** A person whose every personal value is unique, so byte searches cannot match by accident. */
export function person(n: number = ++sequence): Person {
  const tag = `${n}${Math.random().toString(36).slice(2, 8)}`;
  return {
    contactId: `C-${tag}`,
    firstName: `Firstname${tag}`,
    lastName: `Lastname${tag}`,
    email: `person.${tag}@example.org`,
    phone: `+3361${String(n).padStart(7, '0')}`,
    street: `${n} rue des Tilleuls ${tag}`,
    town: 'Lyon',
    postcode: '69001',
    country: 'FR',
    ip: `198.51.${n % 250}.${(n * 7) % 250}`,
  };
}

export function registered(p: Person, occurredAt = '2024-01-10T09:00:00Z') {
  return {
    type: 'ContactRegistered',
    contactId: p.contactId,
    organizationId: 'ORG-A',
    occurredAt,
    data: {
      role: 'individual',
      firstName: p.firstName,
      lastName: p.lastName,
      email: p.email,
      phone: p.phone,
      address: { street: p.street, town: p.town, postcode: p.postcode, country: p.country },
    },
  };
}

export function ticketSold(
  p: Person,
  orderId: string,
  validUntil = '2024-06-15T20:00:00Z',
  occurredAt = '2024-02-01T10:00:00Z',
) {
  return {
    type: 'TicketSold',
    contactId: p.contactId,
    organizationId: 'ORG-B',
    occurredAt,
    data: {
      orderId,
      product: { kind: 'dated', validUntil },
      beneficiary: { firstName: `Guest${p.firstName}`, email: `guest.${p.email}` },
      answers: [{ questionType: 'text', value: `Allergic to ${p.lastName}` }],
      ipAddress: p.ip,
    },
  };
}

export function consentGiven(p: Person, occurredAt = '2024-02-02T10:00:00Z') {
  return {
    type: 'ConsentGiven',
    contactId: p.contactId,
    organizationId: 'ORG-A',
    occurredAt,
    data: { purpose: 'newsletter', source: 'portal', wordingVersion: 'v3', preChecked: false, ipAddress: p.ip },
  };
}

/** The personal values a byte search must never find in data files. */
export const personalValues = (p: Person) => [p.firstName, p.lastName, p.email, p.phone, p.street, p.ip];

/** The purposes the tests' consents use (a consent is accepted for a configured purpose only). */
export const TEST_PURPOSES: Record<string, PurposeSettings> = {
  newsletter: { kind: 'consent', channel: 'email' },
  sms: { kind: 'consent', channel: 'sms' },
};

export async function configureTestPurposes(ledger: LedgerContext): Promise<void> {
  for (const [code, settings] of Object.entries(TEST_PURPOSES)) await configurePurpose(ledger, code, settings);
}

/** A batch a load test sends: a new contact's registration and a click, with their own ids (retried as is). */
export function newContactBatch() {
  const contactId = `C-${randomBytes(5).toString('hex')}`;
  const base = { contactId, organizationId: 'ORG-A', occurredAt: '2025-01-01T10:00:00Z' };
  return [
    { ...base, id: uuidv7(), type: 'ContactRegistered', data: { role: 'individual', firstName: 'Ana' } },
    { ...base, id: uuidv7(), type: 'MarketingLinkClicked', data: { campaignId: 'CMP-1', channel: 'email' } },
  ];
}
