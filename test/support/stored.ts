import Database from 'better-sqlite3';
import { copyFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { filesContaining } from './files.js';

/** A test ledger's storage: its data directory and the environment naming its backend. */
export interface StoredLedger {
  dir: string;
  env: NodeJS.ProcessEnv;
}

const onPostgres = (ledger: StoredLedger) => ledger.env['LEDGER_STORE'] === 'postgres';

async function withPostgres<R>(
  ledger: StoredLedger,
  work: (client: pg.Client, schema: string) => Promise<R>,
): Promise<R> {
  const client = new pg.Client({ connectionString: ledger.env['LEDGER_DATABASE_URL'] });
  await client.connect();
  try {
    return await work(client, `"${ledger.env['LEDGER_DATABASE_SCHEMA']}"`);
  } finally {
    await client.end();
  }
}

/** Every read-model row, in a stable order, for comparisons (state.db, or the PostgreSQL tables). */
export async function dumpReadModels(ledger: StoredLedger) {
  const queries = {
    contacts: 'SELECT * FROM contacts ORDER BY contact_id',
    consents: 'SELECT * FROM consents ORDER BY contact_id, purpose',
    orders: 'SELECT * FROM orders ORDER BY order_id',
    emailIndex: 'SELECT * FROM email_index ORDER BY email_hash, contact_id',
    purposes: 'SELECT * FROM purposes ORDER BY code',
    organizations: 'SELECT * FROM contact_organizations ORDER BY contact_id, organization_id',
  };
  if (onPostgres(ledger)) {
    return withPostgres(ledger, async (client, schema) => {
      await client.query(`SET search_path = ${schema}`);
      const dump: Record<string, unknown[]> = {};
      for (const [name, sql] of Object.entries(queries)) dump[name] = (await client.query(sql)).rows;
      return dump as Record<keyof typeof queries, unknown[]>;
    });
  }
  const db = new Database(join(ledger.dir, 'state.db'), { readonly: true });
  try {
    return Object.fromEntries(Object.entries(queries).map(([name, sql]) => [name, db.prepare(sql).all()])) as Record<
      keyof typeof queries,
      unknown[]
    >;
  } finally {
    db.close();
  }
}

/** Flips one byte of one text column of one stored record, as a careless or malicious hand would. */
export async function flipByte(
  ledger: StoredLedger,
  stream: string,
  revision: number,
  column: 'data' | 'sealed_ciphertext',
  at: (text: string) => number,
) {
  const flip = (value: string) => {
    const bytes = Buffer.from(value, 'utf8');
    const i = at(value);
    bytes[i] = bytes[i]! ^ 0x01;
    return bytes.toString('utf8');
  };
  if (onPostgres(ledger)) {
    await withPostgres(ledger, async (client, schema) => {
      const {
        rows: [row],
      } = await client.query<{ value: string }>(
        `SELECT ${column}::text AS value FROM ${schema}.events WHERE stream = $1 AND revision = $2`,
        [stream, revision],
      );
      await client.query(`UPDATE ${schema}.events SET ${column} = $1 WHERE stream = $2 AND revision = $3`, [
        flip(row!.value),
        stream,
        revision,
      ]);
    });
    return;
  }
  const db = new Database(join(ledger.dir, 'events.db'));
  const row = db
    .prepare(`SELECT ${column} AS value FROM events WHERE stream = ? AND revision = ?`)
    .get(stream, revision) as { value: string };
  db.prepare(`UPDATE events SET ${column} = ? WHERE stream = ? AND revision = ?`).run(
    flip(row.value),
    stream,
    revision,
  );
  db.close();
}

/**
 * Where any needle is stored: the bytes of every data file (SQLite, WAL included), or the text of
 * every row of every table of the ledger's schemas (PostgreSQL). The key store counts unless skipped.
 */
export async function storedContaining(
  ledger: StoredLedger,
  needles: readonly string[],
  options: { skipKeys?: boolean } = {},
) {
  if (!onPostgres(ledger)) {
    const isKeyMaterial = (name: string) => name.startsWith('keys.db') || name === 'master.key';
    return filesContaining(ledger.dir, needles, options.skipKeys ? isKeyMaterial : () => false).map((hit) => ({
      where: hit.file,
      needle: hit.needle,
    }));
  }
  const schemas = [
    ledger.env['LEDGER_DATABASE_SCHEMA']!,
    ...(options.skipKeys ? [] : [ledger.env['LEDGER_KEYS_SCHEMA']!]),
  ];
  return withPostgres(ledger, async (client) => {
    const hits: Array<{ where: string; needle: string }> = [];
    const { rows: tables } = await client.query<{ name: string }>(
      `SELECT format('%I.%I', schemaname, tablename) AS name FROM pg_tables WHERE schemaname = ANY($1::text[])`,
      [schemas],
    );
    for (const { name } of tables) {
      const {
        rows: [dump],
      } = await client.query<{ text: string | null }>(`SELECT string_agg(t::text, E'\\n') AS text FROM ${name} t`);
      for (const needle of needles) if (dump?.text?.includes(needle)) hits.push({ where: name, needle });
    }
    return hits;
  });
}

/**
 * Copies the key store aside (keys.db, or the keys table); `restore` puts that copy back, as a
 * restored backup would.
 */
export async function backupKeys(ledger: StoredLedger): Promise<{ restore(): Promise<void> }> {
  if (onPostgres(ledger)) {
    const keys = `"${ledger.env['LEDGER_KEYS_SCHEMA']}".scope_keys`;
    await withPostgres(ledger, (client) => client.query(`CREATE TABLE ${keys}_backup AS SELECT * FROM ${keys}`));
    return {
      restore: () =>
        withPostgres(ledger, async (client) => {
          await client.query(
            `TRUNCATE ${keys}; INSERT INTO ${keys} SELECT * FROM ${keys}_backup; DROP TABLE ${keys}_backup`,
          );
        }),
    };
  }
  const keysDb = join(ledger.dir, 'keys.db');
  copyFileSync(keysDb, `${keysDb}.backup`);
  return {
    restore: async () => {
      for (const suffix of ['-wal', '-shm']) rmSync(`${keysDb}${suffix}`, { force: true });
      copyFileSync(`${keysDb}.backup`, keysDb);
      rmSync(`${keysDb}.backup`);
    },
  };
}

/** Runs one statement on the read models behind the ledger's back (state.db, or the PostgreSQL tables). */
export const editReadModels = (ledger: StoredLedger, sql: string, params: unknown[]) =>
  editStored(ledger, 'state.db', sql, params);

/** Runs one statement on the log behind the ledger's back (events.db, or the PostgreSQL events table). */
export const editLog = (ledger: StoredLedger, sql: string, params: unknown[]) =>
  editStored(ledger, 'events.db', sql, params);

async function editStored(ledger: StoredLedger, file: string, sql: string, params: unknown[]): Promise<void> {
  if (onPostgres(ledger)) {
    const numbered = sql.replace(
      /\?/g,
      (() => {
        let n = 0;
        return () => `$${++n}`;
      })(),
    );
    await withPostgres(ledger, async (client, schema) => {
      await client.query(`SET search_path = ${schema}`);
      await client.query(numbered, params);
    });
    return;
  }
  const db = new Database(join(ledger.dir, file));
  try {
    db.prepare(sql).run(...params);
  } finally {
    db.close();
  }
}
