/**
 * Deterministic synthetic upstream traffic for benchmarks: registrations first, then a realistic
 * mix of sales (order-sealed), consents, clicks, notes and payments spread over many contacts.
 */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FIRST = ['Camille', 'Louis', 'Emma', 'Noah', 'Léa', 'Hugo', 'Chloé', 'Arthur', 'Manon', 'Jules'];
const LAST = ['Martin', 'Bernard', 'Dubois', 'Thomas', 'Robert', 'Richard', 'Petit', 'Durand', 'Leroy', 'Moreau'];
const TOWNS: Array<[string, string, string]> = [['Lyon', '69001', 'FR'], ['Paris', '75011', 'FR'], ['Genève', '1201', 'CH'], ['Lausanne', '1003', 'CH'], ['Bruxelles', '1000', 'BE']];
const ORGS = ['ORG-OPERA', 'ORG-THEATRE', 'ORG-MUSEUM'];
const day = 24 * 3600 * 1000;
const at = (ms: number) => new Date(ms).toISOString();

function registration(contactId: string, n: number, random: () => number, occurredAt: string) {
  const [town, postcode, country] = TOWNS[n % TOWNS.length]!;
  return {
    type: 'ContactRegistered', contactId, organizationId: ORGS[n % ORGS.length]!, occurredAt,
    data: {
      role: random() < 0.9 ? 'individual' : 'relay',
      firstName: FIRST[n % FIRST.length], lastName: `${LAST[(n >> 3) % LAST.length]}-${n}`,
      email: `contact${n}@example.org`, phone: `+4179${String(n).padStart(7, '0')}`,
      address: { street: `${1 + (n % 120)} rue des Tilleuls`, town, postcode, country },
    },
  };
}

function activity(contactId: string, n: number, seq: number, random: () => number, occurredAt: string) {
  const organizationId = ORGS[Math.floor(random() * ORGS.length)]!;
  const base = { contactId, organizationId, occurredAt };
  const roll = random();
  if (roll < 0.25) {
    const validUntil = at(Date.parse(occurredAt) + Math.floor(random() * 120) * day);
    return {
      ...base, type: 'TicketSold',
      data: {
        orderId: `O-${n}-${seq}`, ticketId: `T-${n}-${seq}`,
        product: random() < 0.8 ? { kind: 'dated', validUntil } : { kind: 'undated' },
        beneficiary: { firstName: FIRST[seq % FIRST.length], lastName: LAST[seq % LAST.length] },
        ipAddress: `203.0.${n % 250}.${seq % 250}`,
      },
    };
  }
  if (roll < 0.35) return { ...base, type: 'ConsentGiven', data: { purpose: 'newsletter', source: 'portal', wordingVersion: 'v3', preChecked: false, ipAddress: `203.0.${n % 250}.1` } };
  if (roll < 0.6) return { ...base, type: 'MarketingLinkClicked', data: { campaignId: `CMP-${seq % 40}`, channel: random() < 0.8 ? 'email' : 'sms' } };
  if (roll < 0.7) return { ...base, type: 'NoteAdded', data: { noteId: `N-${n}-${seq}`, text: 'Asked for a wheelchair seat at the next performance.' } };
  if (roll < 0.85) return { ...base, type: 'PaymentReceived', data: { orderId: `O-${n}-${seq - 1}`, amount: 45 } };
  if (roll < 0.95) return { ...base, type: 'WaitingListJoined', data: { productId: `P-${seq % 300}` } };
  return { ...base, type: 'CriterionChanged', data: { criterion: 'preferred-genre', value: 'baroque opera' } };
}

/** `events` envelopes over `contacts` contacts; each contact's first event is its registration. */
export function syntheticEnvelopes(options: { events: number; contacts: number; seed: number }): unknown[] {
  const random = mulberry32(options.seed);
  const start = Date.parse('2021-01-01T00:00:00Z');
  const span = Date.parse('2026-10-01T00:00:00Z') - start;
  const registered = new Set<number>();
  const envelopes: unknown[] = [];
  for (let seq = 0; envelopes.length < options.events; seq++) {
    const n = Math.floor(random() * options.contacts);
    const contactId = `C-${n}`;
    const occurredAt = at(start + Math.floor((seq / options.events) * span));
    if (!registered.has(n)) {
      registered.add(n);
      envelopes.push(registration(contactId, n, random, occurredAt));
    } else envelopes.push(activity(contactId, n, seq, random, occurredAt));
  }
  return envelopes;
}

/** One contact with `count` events: a registration and a realistic history. */
export function contactEvents(contactId: string, count: number): unknown[] {
  const random = mulberry32(7);
  const start = Date.parse('2022-01-01T00:00:00Z');
  return Array.from({ length: count }, (_, seq) => {
    const occurredAt = at(start + seq * day);
    return seq === 0 ? registration(contactId, 1, random, occurredAt) : activity(contactId, 1, seq, random, occurredAt);
  });
}
