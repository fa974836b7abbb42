import { PROVEN_COLUMNS } from './contact-record.js';
import type { CONSENTS, CONTACTS, ORDERS, Row, Table } from './tables.js';
import type { TargetQuery, TargetTally } from './targeting-sql.js';
import type { DeadLetter, DeliveryHealth } from './delivery-tables.js';

/**
 * The writes of one read-model commit: plain rows, in one transaction with the checkpoint. A
 * commit never upserts and deletes the same row (a backend may apply its deletes last).
 */
export interface ReadModelWrites {
  /** Inserts rows, replacing those of the same key (see tables.ts). */
  upsert<T extends Table>(table: T, rows: Iterable<Row<T>>): Promise<void>;
  /** Deletes the rows whose `column` holds one of `values`. */
  delete<T extends Table>(table: T, column: keyof T['columns'] & string, values: readonly string[]): Promise<void>;
}

/**
 * Storage port of the read models (tables.ts) and their checkpoints: state.db on the embedded
 * default, tables in PostgreSQL otherwise. Adapters store and read plain rows; every rule (the
 * folding, the order merge) lives in the projections, once for every backend.
 */
export interface ReadModelStore {
  checkpoint(projection: string): Promise<number>;
  /** Rows in key order after a key (the key's values, in the table's key order), for walks of a whole table. */
  rowsAfter<T extends Table>(table: T, after: readonly unknown[] | null, limit: number): Promise<Row<T>[]>;
  /** Every row of a small table (the purposes). */
  allRows<T extends Table>(table: T): Promise<Row<T>[]>;
  /** The rows whose `column` holds one of `values` (in no particular order). */
  rows<T extends Table>(table: T, column: keyof T['columns'] & string, values: readonly string[]): Promise<Row<T>[]>;
  /**
   * Runs `write` and moves the checkpoint in one transaction (exactly once): all of it is seen,
   * or none, by every reader, even while `write` awaits. A failure writes nothing.
   */
  commit(projection: string, checkpoint: number, write: (writes: ReadModelWrites) => Promise<void>): Promise<void>;
  /** Empties every read model and checkpoint. */
  reset(): Promise<void>;
  /**
   * New, empty read models beside these (new tables), for a rebuild: readers keep reading these,
   * whole, until the rebuilt ones replace them in one transaction (`swapIn`). Those of a rebuild
   * given up (`discard`, or a crash) never replace anything.
   */
  rebuildTarget(): Promise<RebuildTarget>;
  contactsByEmailHash(hash: string): Promise<string[]>;
  /**
   * Registered contacts not forgotten, of one of `roles`, with recency < before, in (recency, id)
   * order, after a keyset position. A forgotten contact, or an id only ever named as someone's
   * cultural contact, is in no recency list.
   */
  recencyPage(
    before: string,
    roles: readonly string[],
    after: { recency: string; contactId: string } | null,
    limit: number,
  ): Promise<Array<Row<typeof CONTACTS>>>;
  /**
   * The same contacts as recencyPage (listed, recency < before), in contact id order after
   * `afterContactId`, with only the columns the inactive-contact batch reads: a walk of the whole
   * table in its key order, what a batch over every contact reads fastest.
   */
  inactivityPage(before: string, afterContactId: string, limit: number): Promise<InactivityValues[]>;
  /** Orders not purged whose latest end of validity is before `before`, in order id order after `afterOrderId`. */
  purgeablePage(
    before: string,
    afterOrderId: string,
    limit: number,
  ): Promise<Array<Pick<Row<typeof ORDERS>, 'order_id' | 'contact_id'>>>;
  /**
   * The "yes" of a purpose whose last activity is before `before`, in (last activity, contact id)
   * order after a keyset position: what the consent-expiry job proposes.
   */
  expiringPage(
    purpose: string,
    before: string,
    after: { lastActivityAt: string; contactId: string } | null,
    limit: number,
  ): Promise<ExpiringRow[]>;
  /** A campaign's counts and eligible ids over the contacts in scope (see targetingSql). */
  targetingTally(query: TargetQuery): Promise<TargetTally>;
  /** How far a subscriber has been delivered to (0: nothing yet); see delivery-tables.ts. */
  deliveryCheckpoint(subscriberId: string): Promise<number>;
  /**
   * Moves a subscriber's checkpoint and records the messages given up on before it, and how its
   * delivery goes (when given), in one transaction.
   */
  advanceDelivery(
    subscriberId: string,
    name: string,
    position: number,
    deadLetters: readonly DeadLetter[],
    health?: DeliveryHealth,
  ): Promise<void>;
  /** How a subscriber's delivery goes, as last recorded (NO_DELIVERY_YET: nothing recorded). */
  deliveryHealth(subscriberId: string): Promise<DeliveryHealth>;
  /** A subscriber's dead letters, in log order. */
  deadLetters(subscriberId: string): Promise<DeadLetter[]>;
  /** Asks for every dead letter of a subscriber to be sent again (DeadLetter.replay). */
  replayDeadLetters(subscriberId: string): Promise<void>;
  /** A dead letter sent again: delivered, it is removed; failed again, it is recorded failed (no longer to replay). */
  settleDeadLetter(letter: DeadLetter, delivered: boolean): Promise<void>;
  close(): Promise<void>;
}

/** The delivery's own part of the port (delivery-tables.ts), what the delivery job and the API are given. */
export type DeliveryCheckpoints = Pick<
  ReadModelStore,
  'deliveryCheckpoint' | 'deliveryHealth' | 'advanceDelivery' | 'deadLetters' | 'replayDeadLetters' | 'settleDeadLetter'
>;

/** Where a rebuild writes (see ReadModelStore.rebuildTarget). */
export interface RebuildTarget {
  /** The new read models: empty at first, folded into as any others, seen by no reader. */
  store: ReadModelStore;
  /** Replaces the read models, checkpoint included, by the new ones, in one transaction. */
  swapIn(): Promise<void>;
  /** Drops the new ones: the read models stay as they were. */
  discard(): Promise<void>;
}

export type ExpiringRow = Pick<Row<typeof CONSENTS>, 'contact_id' | 'last_activity_at'>;

/** The columns of a contact row the inactive-contact batch classifies by (no personal data), with their proof. */
export const INACTIVITY_COLUMNS = [...PROVEN_COLUMNS, 'proof'] as const satisfies ReadonlyArray<
  keyof Row<typeof CONTACTS>
>;
export type InactivityRow = Pick<Row<typeof CONTACTS>, (typeof INACTIVITY_COLUMNS)[number]>;
/** A row's values in the order of `Columns`, each of its column's type. */
type ValuesOf<Columns extends readonly string[]> = {
  -readonly [K in keyof Columns]: Columns[K] extends keyof InactivityRow ? InactivityRow[Columns[K]] : never;
};
/**
 * A row of those columns as its values, in their order (the proven columns first, then the
 * proof): half a million of them are read by one batch, and arrays cost less than objects.
 */
export type InactivityValues = ValuesOf<typeof INACTIVITY_COLUMNS>;
