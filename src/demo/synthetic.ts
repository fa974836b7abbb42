import { ROLES } from '../domain/catalog.js';
import type { PurposeSettings } from '../domain/purposes.js';

/**
 * A deterministic synthetic institution (`ledger demo`, benchmarks): several organisations,
 * every role, prospects and customers, dated and undated products, beneficiaries and cultural
 * contacts, consents given and withdrawn, balances, legal holds and activity spread over six
 * years, as upstream systems would publish it.
 * Each contact's registration comes first; after that, contacts are picked at random.
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

/**
 * The purposes the synthetic institution configures before anything is published, with the
 * wording its privacy center shows the person in each language.
 */
export const DEMO_PURPOSES: Record<string, PurposeSettings> = {
  newsletter: {
    kind: 'consent',
    channel: 'email',
    expiryDays: 730,
    prolongedBy: [
      'ConsentGiven',
      'MarketingLinkClicked',
      'MarketingOperationJoined',
      'StatusPageVisited',
      'TicketSold',
    ],
    labels: {
      fr: {
        name: 'Lettre d’information',
        description:
          'Chaque mois, par e-mail, la programmation de la saison, les ouvertures de billetterie et les ' +
          'rencontres avec les artistes. Un lien de désinscription figure dans chaque envoi.',
      },
      en: {
        name: 'Newsletter',
        description:
          'Once a month, by e-mail: the season’s programme, when ticket sales open and meetings with the ' +
          'artists. Every issue has a link to unsubscribe.',
      },
    },
  },
  'sms-offers': {
    kind: 'consent',
    channel: 'sms',
    expiryDays: 365,
    prolongedBy: ['MarketingLinkClicked'],
    labels: {
      fr: {
        name: 'Offres de dernière minute par SMS',
        description: 'Des places à tarif réduit les jours de représentation, quelques SMS par saison au plus.',
      },
      en: {
        name: 'Last-minute offers by text message',
        description: 'Reduced-price seats on the day of a performance, a few text messages a season at most.',
      },
    },
  },
  'partner-offers': {
    kind: 'consent',
    channel: 'email',
    expiryDays: 365,
    prolongedBy: ['MarketingLinkClicked'],
    labels: {
      fr: {
        name: 'Offres de nos partenaires',
        description:
          'Les invitations et avantages que nous proposent les festivals et musées partenaires, envoyés par ' +
          'nous : vos coordonnées ne leur sont jamais transmises.',
      },
      en: {
        name: 'Offers from our partners',
        description:
          'Invitations and benefits from our partner festivals and museums, sent by us: your details are ' +
          'never passed on to them.',
      },
    },
  },
  order: {
    kind: 'legalBasis',
    channel: 'all',
    expiryDays: 1095,
    labels: {
      fr: {
        name: 'Suivi de vos commandes',
        description:
          'Vos billets, leurs changements et les annulations de représentation : nous vous en informons pour ' +
          'exécuter le contrat, pendant trois ans après votre dernière commande.',
      },
      en: {
        name: 'Your orders',
        description:
          'Your tickets, changes to them and cancelled performances: we tell you about them to perform the ' +
          'contract, for three years after your last order.',
      },
    },
  },
};

const FIRST = ['Camille', 'Louis', 'Emma', 'Noah', 'Léa', 'Hugo', 'Chloé', 'Arthur', 'Manon', 'Jules'];
const LAST = ['Martin', 'Bernard', 'Dubois', 'Thomas', 'Robert', 'Richard', 'Petit', 'Durand', 'Leroy', 'Moreau'];
const TOWNS: Array<[string, string, string]> = [
  ['Lyon', '69001', 'FR'],
  ['Paris', '75011', 'FR'],
  ['Genève', '1201', 'CH'],
  ['Lausanne', '1003', 'CH'],
  ['Bruxelles', '1000', 'BE'],
];
const ORGS = ['ORG-OPERA', 'ORG-THEATRE', 'ORG-MUSEUM'];
const day = 24 * 3600 * 1000;
const at = (ms: number) => new Date(ms).toISOString();

/** Mostly individuals, then relays, and a few of every other role. */
function roleOf(random: () => number): string {
  const roll = random();
  if (roll < 0.85) return 'individual';
  if (roll < 0.93) return 'relay';
  return ROLES[2 + Math.floor(random() * (ROLES.length - 2))]!;
}

function registration(contactId: string, n: number, random: () => number, occurredAt: string) {
  const [town, postcode, country] = TOWNS[n % TOWNS.length]!;
  return {
    type: 'ContactRegistered',
    contactId,
    organizationId: ORGS[n % ORGS.length]!,
    occurredAt,
    data: {
      role: roleOf(random),
      firstName: FIRST[n % FIRST.length],
      lastName: `${LAST[(n >> 3) % LAST.length]}-${n}`,
      email: `contact${n}@example.org`,
      phone: `+4179${String(n).padStart(7, '0')}`,
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
      ...base,
      type: 'TicketSold',
      data: {
        orderId: `O-${n}-${seq}`,
        ticketId: `T-${n}-${seq}`,
        product: random() < 0.8 ? { kind: 'dated', validUntil } : { kind: 'undated' },
        beneficiary: {
          firstName: FIRST[seq % FIRST.length],
          lastName: LAST[seq % LAST.length],
          email: `guest.${n}.${seq}@example.net`,
          address: { country: TOWNS[seq % TOWNS.length]![2] },
        },
        ipAddress: `203.0.${n % 250}.${seq % 250}`,
        // One sale in ten for someone else, who may be registered or not (an id only ever named).
        ...(seq % 10 === 0 ? { culturalContactId: `C-${(n * 7 + seq) % 4096}` } : {}),
      },
    };
  }
  if (roll < 0.32)
    return {
      ...base,
      type: 'ConsentGiven',
      data: {
        purpose: random() < 0.7 ? 'newsletter' : 'sms-offers',
        source: 'portal',
        wordingVersion: 'v3',
        preChecked: false,
        ipAddress: `203.0.${n % 250}.1`,
      },
    };
  if (roll < 0.35) return { ...base, type: 'ConsentWithdrawn', data: { purpose: 'newsletter', source: 'form' } };
  if (roll < 0.36)
    return {
      ...base,
      type: 'BalanceChanged',
      data: { balance: random() < 0.5 ? 0 : Math.round(random() * 200 - 100), currency: 'EUR' },
    };
  if (roll < 0.362) return { ...base, type: 'LegalHoldPlaced', data: { reason: 'litigation' } };
  if (roll < 0.6)
    return {
      ...base,
      type: 'MarketingLinkClicked',
      data: { campaignId: `CMP-${seq % 40}`, channel: random() < 0.8 ? 'email' : 'sms' },
    };
  if (roll < 0.7)
    return {
      ...base,
      type: 'NoteAdded',
      data: { noteId: `N-${n}-${seq}`, text: 'Asked for a wheelchair seat at the next performance.' },
    };
  if (roll < 0.85) return { ...base, type: 'PaymentReceived', data: { orderId: `O-${n}-${seq - 1}`, amount: 45 } };
  if (roll < 0.95) return { ...base, type: 'WaitingListJoined', data: { productId: `P-${seq % 300}` } };
  return { ...base, type: 'CriterionChanged', data: { criterion: 'preferred-genre', value: 'baroque opera' } };
}

export interface SyntheticOptions {
  events: number;
  contacts: number;
  seed: number;
  /** The number of the first contact (C-n; its orders O-n-…): another range, other contacts. Default 0. */
  firstContact?: number;
  /** The six years the activity is spread over end here. */
  until?: Date;
}

/** `events` envelopes over `contacts` contacts, generated lazily (a million need no memory). */
export function* syntheticStream(options: SyntheticOptions): Generator<unknown> {
  const random = mulberry32(options.seed);
  const end = (options.until ?? new Date('2026-10-01T00:00:00Z')).getTime();
  const start = end - 6 * 365 * day;
  const registered = new Uint8Array(options.contacts);
  const first = options.firstContact ?? 0;
  for (let seq = 0; seq < options.events; seq++) {
    const index = Math.floor(random() * options.contacts);
    const n = first + index;
    const contactId = `C-${n}`;
    const occurredAt = at(start + Math.floor((seq / options.events) * (end - start)));
    if (registered[index] === 0) {
      registered[index] = 1;
      yield registration(contactId, n, random, occurredAt);
    } else yield activity(contactId, n, seq, random, occurredAt);
  }
}

export const syntheticEnvelopes = (options: SyntheticOptions): unknown[] => [...syntheticStream(options)];

/** One contact with `count` events: a registration and a realistic history. */
export function contactEvents(contactId: string, count: number): unknown[] {
  const random = mulberry32(7);
  const start = Date.parse('2022-01-01T00:00:00Z');
  return Array.from({ length: count }, (_, seq) => {
    const occurredAt = at(start + seq * day);
    return seq === 0 ? registration(contactId, 1, random, occurredAt) : activity(contactId, 1, seq, random, occurredAt);
  });
}
