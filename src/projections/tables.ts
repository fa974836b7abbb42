/**
 * The read-model tables, each written once: both backends' DDL, the column lists of their writes
 * and the row types all come from these definitions. Nothing personal is stored: ids, dates,
 * flags, counts and keyed hashes.
 */

/** How a column is stored: `flag` is 0 or 1; `integer` may hold a log position (64 bits). */
export type ColumnType = 'text' | 'integer' | 'real' | 'flag';

interface ColumnTypes {
  text: string;
  integer: number;
  real: number;
  flag: 0 | 1;
}

export interface Column<T extends ColumnType = ColumnType> {
  type: T;
  nullable?: boolean;
}

export interface Table<C extends Record<string, Column> = Record<string, Column>> {
  name: string;
  columns: C;
  /** The primary key's columns: an upsert replaces the row of the same key. */
  key: readonly string[];
  /** Indexes that only queries need, by name (dropped by a reset, built again in one sort). */
  indexes: Record<string, readonly string[]>;
}

/** A row as stored and read back: one value per column, null where the column is nullable. */
export type Row<T extends Table> = {
  [K in keyof T['columns']]: T['columns'][K] extends Column<infer C>
    ? ColumnTypes[C] | (T['columns'][K]['nullable'] extends true ? null : never)
    : never;
};

/** A table whose key and index columns are checked against its columns. */
const table = <C extends Record<string, Column>>(
  definition: Table<C> & {
    key: ReadonlyArray<keyof C & string>;
    indexes: Record<string, ReadonlyArray<keyof C & string>>;
  },
): Table<C> => definition;
const text = { type: 'text' } as const;
const optionalText = { type: 'text', nullable: true } as const;
const integer = { type: 'integer' } as const;
const optionalInteger = { type: 'integer', nullable: true } as const;
const flag = { type: 'flag' } as const;

export const CHECKPOINTS = table({
  name: 'checkpoints',
  columns: { projection: text, position: integer },
  key: ['projection'],
  indexes: {},
});

/** One row per contact: its flags and the marks its exact recency is computed from. */
export const CONTACTS = table({
  name: 'contacts',
  columns: {
    contact_id: text,
    role: optionalText,
    status: text,
    customer: flag,
    balance: { type: 'real' },
    currency: optionalText,
    restricted: flag,
    legal_hold: flag,
    registered_at: optionalText,
    registered_event: optionalText,
    registered_position: optionalInteger,
    activity_at: optionalText,
    activity_event: optionalText,
    activity_position: optionalInteger,
    recency_at: optionalText,
    recency_event: optionalText,
    /** The consents' answers as `,code=y,code=n,` (see consentAnswers): what targeting scans, in this one row. */
    consent_answers: text,
    /** The latest end of validity of the contact's own tickets: a later one keeps it from forgetting. */
    valid_until: optionalText,
    /** The log position of the last event folded into the row (its own, or a sale naming it). */
    head_position: integer,
    /** The row's proof (contact-record.ts provenFacts): the batch's facts as the ledger wrote them. */
    proof: optionalText,
  },
  key: ['contact_id'],
  indexes: { contacts_by_recency: ['recency_at', 'contact_id'] },
});

/** The contacts a recency list holds: registered (not only named as a cultural contact) and not forgotten. */
export const LISTED_CONTACT = "status = 'active' AND registered_event IS NOT NULL";

/** One row per contact and purpose; `last_activity_at`: the "yes" given, or its latest prolonging activity. */
export const CONSENTS = table({
  name: 'consents',
  columns: { contact_id: text, purpose: text, status: text, changed_at: text, last_activity_at: text },
  key: ['contact_id', 'purpose'],
  indexes: { consents_by_activity: ['purpose', 'status', 'last_activity_at', 'contact_id'] },
});

/** The last `ledger projections verify`: how many rows differed from the log folded again, and when. */
export const VERIFICATIONS = table({
  name: 'verifications',
  columns: { name: text, verified_at: text, position: integer, differences: integer },
  key: ['name'],
  indexes: {},
});

/** The organisations a contact has dealt with (any event of its stream): what targeting by organisation reads. */
export const CONTACT_ORGANIZATIONS = table({
  name: 'contact_organizations',
  columns: { contact_id: text, organization_id: text },
  key: ['contact_id', 'organization_id'],
  indexes: { contact_organizations_by_organization: ['organization_id', 'contact_id'] },
});

/** The purposes' configuration as the log now holds it (the projection folds each event by the one before it). */
export const PURPOSES = table({
  name: 'purposes',
  columns: {
    code: text,
    kind: text,
    channel: text,
    expiry_days: optionalInteger,
    /** JSON array of event types. */
    prolonged_by: text,
    expiry_since: optionalText,
    configured_at: text,
  },
  key: ['code'],
  indexes: {},
});

/**
 * One row per order: the contact of its earliest event, the earliest end of validity of its
 * activities (no later than its first ticket's: the batch proposes every order with a ticket ended
 * before the cutoff, and its stream decides which), whether every ticket of it is purged.
 */
export const ORDERS = table({
  name: 'orders',
  columns: {
    order_id: text,
    contact_id: text,
    first_position: integer,
    earliest_end: text,
    purged: flag,
  },
  key: ['order_id'],
  indexes: { orders_by_contact: ['contact_id'] },
});

/** One indexed address per contact: the keyed blind-index hash of its e-mail, never the address. */
export const EMAIL_INDEX = table({
  name: 'email_index',
  columns: { contact_id: text, email_hash: text },
  key: ['contact_id'],
  indexes: { email_index_by_hash: ['email_hash', 'contact_id'] },
});

/**
 * The log record each checkpoint points at, by its hash: a log restored from an older copy (the
 * checkpoint beyond its head) or from another history (another record there) shows at start; and
 * the master key the rows were keyed by (RowProofs.masterKeyId), which a rotation changes.
 */
export const CHECKPOINT_RECORDS = table({
  name: 'checkpoint_records',
  columns: { projection: text, position: integer, hash: text, keyed_by: text },
  key: ['projection'],
  indexes: {},
});

export const READ_MODEL_TABLES: readonly Table[] = [
  CHECKPOINTS,
  CHECKPOINT_RECORDS,
  CONTACTS,
  CONSENTS,
  ORDERS,
  EMAIL_INDEX,
  PURPOSES,
  CONTACT_ORGANIZATIONS,
  VERIFICATIONS,
];

/**
 * Bumped with every change to these tables: a store at another version drops them, and the
 * runner rebuilds them from the log (read models are disposable).
 */
export const READ_MODEL_VERSION = 9;

export const columnsOf = (table: Table): string[] => Object.keys(table.columns);

/** The table's DDL in a dialect: each backend says how it writes a column type and a table name. */
export function createTableSql(
  table: Table,
  dialect: { qualified: (name: string) => string; type: (column: Column) => string; suffix: string },
): string {
  const columns = Object.entries(table.columns).map(
    ([name, column]) => `${name} ${dialect.type(column)}${column.nullable ? '' : ' NOT NULL'}`,
  );
  return `CREATE TABLE IF NOT EXISTS ${dialect.qualified(table.name)} (${columns.join(', ')},
    PRIMARY KEY (${table.key.join(', ')}))${dialect.suffix};`;
}

/** The query indexes of every table, created when missing. */
export const createIndexesSql = (qualified: (name: string) => string): string =>
  READ_MODEL_TABLES.flatMap((table) =>
    Object.entries(table.indexes).map(
      ([name, columns]) => `CREATE INDEX IF NOT EXISTS ${name} ON ${qualified(table.name)} (${columns.join(', ')});`,
    ),
  ).join('\n');

/** The upsert's conflict clause: the row of the same key takes every other column's new value (if any). */
export function onConflictReplace(table: Table): string {
  const others = columnsOf(table).filter((column) => !table.key.includes(column));
  return others.length === 0
    ? `ON CONFLICT (${table.key.join(', ')}) DO NOTHING`
    : `ON CONFLICT (${table.key.join(', ')}) DO UPDATE SET ${others.map((c) => `${c} = excluded.${c}`).join(', ')}`;
}
