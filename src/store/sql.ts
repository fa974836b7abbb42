/** SQL text shared by the SQLite and PostgreSQL adapters (both speak this much of the same dialect). */

/** A sorted SQL list of string literals (types are identifiers, quotes escaped all the same). */
export const sqlList = (values: readonly string[]) =>
  [...values]
    .sort()
    .map((value) => `'${value.replaceAll("'", "''")}'`)
    .join(', ');
