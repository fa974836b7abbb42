import type { Row, Table } from './tables.js';

/**
 * What the delivery to subscribers keeps beside the read models (issue 27: "a per-subscriber
 * checkpoint kept with the read models"): how far each subscriber has been delivered to, and the
 * messages given up on. Not read models: they are no fold of the log (they say what a receiver
 * answered), so neither a reset, a rebuild nor a new read-model version drops them, which would
 * deliver the whole log again. Nothing personal: ids, positions, counts, an error's short reason.
 */
export const DELIVERY_CHECKPOINTS = {
  name: 'delivery_checkpoints',
  columns: { subscriber_id: { type: 'text' }, name: { type: 'text' }, position: { type: 'integer' } },
  key: ['subscriber_id'],
  indexes: {},
} as const satisfies Table;

export const DEAD_LETTERS = {
  name: 'delivery_dead_letters',
  columns: {
    subscriber_id: { type: 'text' },
    event_id: { type: 'text' },
    name: { type: 'text' },
    position: { type: 'integer' },
    attempts: { type: 'integer' },
    /** A status code or an error code (`HTTP 500`, `ECONNREFUSED`), never a receiver's body. */
    error: { type: 'text' },
    failed_at: { type: 'text' },
    /** 1: an admin asked for it to be sent again (the delivery does, then removes it, or records it failed again). */
    replay: { type: 'flag' },
  },
  key: ['subscriber_id', 'event_id'],
  indexes: {},
} as const satisfies Table;

/**
 * How a subscriber's delivery goes (GET /v1/subscribers), written with its checkpoint: its last
 * message delivered, its last failure, and since when and how many attempts it has been failing.
 */
export const DELIVERY_HEALTH = {
  name: 'delivery_health',
  columns: {
    subscriber_id: { type: 'text' },
    last_event_id: { type: 'text', nullable: true },
    last_position: { type: 'integer', nullable: true },
    last_delivered_at: { type: 'text', nullable: true },
    /** A status code or an error code, as a dead letter's. */
    last_error: { type: 'text', nullable: true },
    last_failed_at: { type: 'text', nullable: true },
    /** The first failed attempt since the last message delivered; null: not failing. */
    failing_since: { type: 'text', nullable: true },
    /** Failed attempts since the last message delivered (0: not failing). */
    failed_attempts: { type: 'integer' },
  },
  key: ['subscriber_id'],
  indexes: {},
} as const satisfies Table;

export const DELIVERY_TABLES: readonly Table[] = [DELIVERY_CHECKPOINTS, DEAD_LETTERS, DELIVERY_HEALTH];

/** How a subscriber's delivery goes: nothing personal (an event id, a position, times, an error code). */
export interface DeliveryHealth {
  lastDelivery: { eventId: string; position: number; at: string } | null;
  lastFailure: { error: string; at: string } | null;
  /** Failing now: attempts failed since the last message delivered, and since when; null once one is. */
  failing: { since: string; attempts: number } | null;
}

export const NO_DELIVERY_YET: DeliveryHealth = { lastDelivery: null, lastFailure: null, failing: null };

export const deliveryHealthRow = (subscriberId: string, health: DeliveryHealth): Row<typeof DELIVERY_HEALTH> => ({
  subscriber_id: subscriberId,
  last_event_id: health.lastDelivery?.eventId ?? null,
  last_position: health.lastDelivery?.position ?? null,
  last_delivered_at: health.lastDelivery?.at ?? null,
  last_error: health.lastFailure?.error ?? null,
  last_failed_at: health.lastFailure?.at ?? null,
  failing_since: health.failing?.since ?? null,
  failed_attempts: health.failing?.attempts ?? 0,
});

export const deliveryHealthOf = (row: Row<typeof DELIVERY_HEALTH>): DeliveryHealth => ({
  lastDelivery:
    row.last_event_id === null
      ? null
      : { eventId: row.last_event_id, position: Number(row.last_position), at: row.last_delivered_at! },
  lastFailure: row.last_error === null ? null : { error: row.last_error, at: row.last_failed_at! },
  failing: row.failing_since === null ? null : { since: row.failing_since, attempts: Number(row.failed_attempts) },
});

/** A message given up on after its attempts: the subscriber (by the event that made it, and its name) and the event. */
export interface DeadLetter {
  subscriberId: string;
  name: string;
  eventId: string;
  position: number;
  attempts: number;
  error: string;
  failedAt: string;
  /** An admin asked for it to be sent again, and it has not been yet. */
  replay: boolean;
}

export const deadLetterRow = (letter: DeadLetter): Row<typeof DEAD_LETTERS> => ({
  subscriber_id: letter.subscriberId,
  event_id: letter.eventId,
  name: letter.name,
  position: letter.position,
  attempts: letter.attempts,
  error: letter.error,
  failed_at: letter.failedAt,
  replay: letter.replay ? 1 : 0,
});

export const deadLetterOf = (row: Row<typeof DEAD_LETTERS>): DeadLetter => ({
  subscriberId: row.subscriber_id,
  name: row.name,
  eventId: row.event_id,
  position: Number(row.position),
  attempts: Number(row.attempts),
  error: row.error,
  failedAt: row.failed_at,
  replay: Number(row.replay) === 1,
});
