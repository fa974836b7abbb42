import { createHash } from 'node:crypto';

/** SQL text shared by the SQLite and PostgreSQL adapters (both speak this much of the same dialect). */

/** A sorted SQL list of string literals (types are identifiers, quotes escaped all the same). */
export const sqlList = (values: readonly string[]) =>
  [...values]
    .sort()
    .map((value) => `'${value.replaceAll("'", "''")}'`)
    .join(', ');

/**
 * One partial index per group of rare types that `readByTypes` looks up, named after the group:
 * a query names its group's exact list, so the planner matches the index's WHERE.
 */
export const typeIndexesSql = (table: string, groups: ReadonlyArray<readonly string[]>) =>
  groups
    .map((types) => {
      const name = `events_of_types_${createHash('sha256').update(sqlList(types)).digest('hex').slice(0, 12)}`;
      return `CREATE INDEX IF NOT EXISTS ${name} ON ${table} (position) WHERE type IN (${sqlList(types)});`;
    })
    .join('\n');

/** The events table's columns of an EventFact, in the order both adapters read them (positions first). */
export const FACT_COLUMNS =
  'position, id, stream, type, occurred_at, organization_id, data, ' +
  'sealed_key_id, sealed_iv, sealed_tag, sealed_ciphertext, sealed_fields';
/** A stored event's columns: a fact's, then the chain's (which a rebuild does not fetch). */
export const COLUMNS = `${FACT_COLUMNS}, revision, recorded_at, prev_hash, hash, log_hash, log_version`;
