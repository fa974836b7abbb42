import { Type, type Static } from '@sinclair/typebox';
import { RuleViolation } from './errors.js';
import { Line, OneOf, Text } from './schema-kit.js';

/**
 * Purposes (DESIGN.md "Consent"; reference: consent-expiry.fr.txt): what a contact may consent to
 * or object to, configured by events in the `purposes` stream. Each contact event is judged by the
 * configuration recorded before it in the log (log order), so a replay applies the configuration
 * in force at each moment, and changing the prolonging events needs no deactivate/reactivate step.
 */
export const PURPOSES_STREAM = 'purposes';
export const PURPOSE_CONFIGURED = 'PurposeConfigured';

export const PURPOSE_KINDS = ['consent', 'legalBasis'] as const;
export const CHANNELS = ['email', 'sms', 'post', 'phone', 'all'] as const;
export type Channel = (typeof CHANNELS)[number];

/**
 * The contact's own activities that may prolong a "yes" (the reference page's list): joining a
 * marketing operation, a click in an e-mail or an SMS, a new order, a visit to the loyalty balance
 * or customer-status page, another consent given, an account created or updated.
 */
export const PROLONGING_TYPES = [
  'MarketingOperationJoined',
  'MarketingLinkClicked',
  'OptionTaken',
  'ReservationMade',
  'TicketSold',
  'StatusPageVisited',
  'ConsentGiven',
  'AccountUpdated',
] as const;
export type ProlongingType = (typeof PROLONGING_TYPES)[number];

/**
 * The legal basis that a new order brings back (reference: "s'il repasse une commande, il sera à
 * nouveau dans la base légale").
 */
export const ORDER_LEGAL_BASIS = 'order';
/** The order events that are "a new order". */
export const NEW_ORDER_TYPES: readonly string[] = ['OptionTaken', 'ReservationMade', 'TicketSold'];

/** A purpose's name and description in one language, as the person reads them on their page (never blank). */
export const PurposeLabel = Type.Object(
  { name: Line(80), description: Type.Optional(Text(500)) },
  { additionalProperties: false },
);
/**
 * A purpose's wording in French and in English (the privacy center's languages), one of them at
 * least: the page falls back on the other language, then on the code. Institution configuration,
 * in clear: like every clear value it may hold no e-mail address nor phone number.
 */
export const PurposeLabels = Type.Object(
  { fr: Type.Optional(PurposeLabel), en: Type.Optional(PurposeLabel) },
  { additionalProperties: false, minProperties: 1 },
);
export type PurposeLabels = Static<typeof PurposeLabels>;

/** The body of `PUT /v1/purposes/:code`: one schema gives the type and the validator. */
export const PurposeSettings = Type.Object(
  {
    kind: OneOf(PURPOSE_KINDS),
    channel: OneOf(CHANNELS),
    expiryDays: Type.Optional(Type.Integer({ minimum: 1, maximum: 36_500 })),
    prolongedBy: Type.Optional(Type.Array(OneOf(PROLONGING_TYPES), { uniqueItems: true, maxItems: 16 })),
    labels: Type.Optional(PurposeLabels),
  },
  { additionalProperties: false },
);
export type PurposeSettings = Static<typeof PurposeSettings>;

/** What a `PurposeConfigured` event holds: the code and its whole configuration from then on. */
export type PurposeConfiguration = PurposeSettings & { code: string };

export interface Purpose {
  code: string;
  kind: PurposeSettings['kind'];
  channel: Channel;
  /** Null: a "yes" for this purpose never expires. */
  expiryDays: number | null;
  prolongedBy: readonly ProlongingType[];
  /** Null: none configured (the page shows the code). */
  labels: PurposeLabels | null;
  /**
   * When expiry was last enabled (null while disabled): a "yes" whose last activity is older
   * counts from then, so enabling expiry never expires anyone at once, and existing "yes" need
   * no rewriting (reference: "nous initions la date de dernière activité à la date d'activation").
   */
  expirySince: string | null;
  configuredAt: string;
}

export type PurposesState = ReadonlyMap<string, Purpose>;

/** A configuration event as the folds see it: its place in the log orders it among contact events. */
export interface PurposeEvent {
  type: typeof PURPOSE_CONFIGURED;
  position: number;
  occurredAt: string;
  data: PurposeConfiguration;
}

export function evolvePurposes(state: PurposesState, event: Pick<PurposeEvent, 'occurredAt' | 'data'>): PurposesState {
  const { code, kind, channel, expiryDays, prolongedBy, labels } = event.data;
  const previous = state.get(code);
  const expires = expiryDays !== undefined;
  const alreadyExpiring = previous !== undefined && previous.expiryDays !== null;
  const expirySince = !expires ? null : alreadyExpiring ? previous.expirySince : event.occurredAt;
  const next = new Map(state);
  next.set(code, {
    code,
    kind,
    channel,
    expiryDays: expiryDays ?? null,
    prolongedBy: prolongedBy ?? [],
    labels: labels ?? null,
    expirySince,
    configuredAt: event.occurredAt,
  });
  return next;
}

/**
 * Configures a purpose; null when the configuration is already the one in force (a PUT repeated
 * appends nothing). A purpose keeps its kind: the history of its answers means one thing.
 */
export function decideConfigurePurpose(
  state: PurposesState,
  code: string,
  settings: PurposeSettings,
): PurposeConfiguration | null {
  const previous = state.get(code);
  if (previous && previous.kind !== settings.kind) {
    throw new RuleViolation(
      `purpose ${code} is a ${previous.kind}; a purpose cannot change kind`,
      'configure a new purpose code for the new kind',
    );
  }
  const configuration: PurposeConfiguration = {
    code,
    kind: settings.kind,
    channel: settings.channel,
    ...(settings.expiryDays !== undefined ? { expiryDays: settings.expiryDays } : {}),
    ...(settings.prolongedBy !== undefined && settings.prolongedBy.length > 0
      ? { prolongedBy: [...settings.prolongedBy].sort() }
      : {}),
    ...(settings.labels !== undefined ? { labels: settings.labels } : {}),
  };
  const same =
    previous &&
    previous.channel === configuration.channel &&
    previous.expiryDays === (configuration.expiryDays ?? null) &&
    previous.prolongedBy.join() === (configuration.prolongedBy ?? []).join() &&
    wordingOf(previous.labels) === wordingOf(configuration.labels);
  return same ? null : configuration;
}

/**
 * The labels' wording, whatever the order of their keys (a body's, or PostgreSQL's jsonb's, which
 * reorders them): the same labels compare equal, so a repeated PUT appends nothing.
 */
const wordingOf = (labels: PurposeLabels | null | undefined): string =>
  JSON.stringify(labels ? [labels.fr?.name, labels.fr?.description, labels.en?.name, labels.en?.description] : null);

/** The configuration as the API shows it. */
export const purposeView = (purpose: Purpose) => ({
  code: purpose.code,
  kind: purpose.kind,
  channel: purpose.channel,
  expiryDays: purpose.expiryDays,
  prolongedBy: purpose.prolongedBy,
  labels: purpose.labels,
  expirySince: purpose.expirySince,
  configuredAt: purpose.configuredAt,
});

/**
 * The purposes' configuration over the log: what was in force at any position. Built from the
 * purposes stream, which holds a few events per purpose.
 */
export class PurposeTimeline {
  private readonly states: Array<{ position: number; state: PurposesState }> = [];

  constructor(events: Iterable<PurposeEvent>) {
    let state: PurposesState = new Map();
    for (const event of [...events].sort((a, b) => a.position - b.position)) {
      state = evolvePurposes(state, event);
      this.states.push({ position: event.position, state });
    }
  }

  /** The configuration recorded before `position`. */
  at(position: number): PurposesState {
    let found: PurposesState = new Map();
    for (const entry of this.states) {
      if (entry.position >= position) break;
      found = entry.state;
    }
    return found;
  }

  get current(): PurposesState {
    return this.states.at(-1)?.state ?? new Map();
  }
}

/** Whether an event the folds read is a purpose configuration (the rest are contact events). */
export const isPurposeEvent = (event: { type: string }): event is PurposeEvent => event.type === PURPOSE_CONFIGURED;
