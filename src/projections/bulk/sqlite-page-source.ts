import type Database from 'better-sqlite3';
import { sqliteFiles } from '../../config.js';
import { EVENT_TYPES } from '../../domain/catalog.js';
import { CONTACT_STREAM_PREFIX } from '../../domain/identifiers.js';
import { PURPOSE_CONFIGURED, PURPOSES_STREAM } from '../../domain/purposes.js';
import { SqliteKeyRepository } from '../../crypto/sqlite-key-repository.js';
import { openEventsDb } from '../../store/events-db.js';
import { pagesAfterBy } from '../../store/pages.js';
import { EMAIL_FIELD } from '../fold-batch.js';
import type { PageText } from './messages.js';
import type { PageSource, SealedEmail } from './page-source.js';

/**
 * A page written by SQLite itself in one statement: the JSON text of its events (escaping done in
 * C, no string per column in JavaScript: half the cost of reading rows and writing the text
 * here), in the shape of `domainEvents` (ledger types of contact streams, the stream's id as
 * `contactId`; the purposes' configuration); the ids of those that seal an e-mail; its last
 * position and size (of every event read, kept or not).
 */
const FOLD_PAGE = `SELECT json_group_array(CASE WHEN stream = @purposes
    THEN json_object('type', type, 'position', position, 'occurredAt', occurred_at, 'data', json(data))
    ELSE json_object('id', id, 'type', type, 'contactId', substr(stream, length(@prefix) + 1), 'position', position,
      'occurredAt', occurred_at, 'data', json(data), 'organizationId', organization_id) END)
    FILTER (WHERE kept) AS events,
  json_group_array(id) FILTER (WHERE kept AND instr(sealed_fields, @field)) AS emailEvents,
  max(position) AS last, count(*) AS count
  FROM (SELECT id, type, stream, position, occurred_at, data, sealed_fields, organization_id,
      (substr(stream, 1, length(@prefix)) = @prefix AND type IN (SELECT value FROM json_each(@types)))
        OR (stream = @purposes AND type = @purposeType) AS kept
    FROM events WHERE position > @after ORDER BY position LIMIT @limit)`;
/** The sealed parts that hold an e-mail, in a range of positions: what the reader opens. */
const SEALED_EMAILS = `SELECT id, sealed_key_id, sealed_iv, sealed_tag, sealed_ciphertext, sealed_fields FROM events
  WHERE position > @after AND position <= @last AND instr(sealed_fields, @field)`;

type PageRow = PageText & { count: number };
type SealedRow = [string, string, string, string, string, string];

/** Reads one fold page (see FOLD_PAGE); a page of no event reaches the end of the log. */
export function foldPageReader(db: Database.Database): (after: number, limit: number) => PageRow {
  const statement = db.prepare<[Record<string, unknown>], PageRow>(FOLD_PAGE);
  const fixed = {
    prefix: CONTACT_STREAM_PREFIX,
    types: JSON.stringify(EVENT_TYPES),
    purposes: PURPOSES_STREAM,
    purposeType: PURPOSE_CONFIGURED,
    field: JSON.stringify(EMAIL_FIELD),
  };
  return (after, limit) => {
    const page = statement.get({ ...fixed, after, limit })!;
    return page.count === 0 ? { events: '[]', emailEvents: '[]', last: after, count: 0 } : page;
  };
}

/**
 * The bulk reader's pages on the embedded default: events.db and keys.db opened with a small page
 * cache (a bulk read visits each page once). A page's sealed e-mails are read again when hashed:
 * the page is still in SQLite's cache, and nothing is held here meanwhile.
 */
export function sqlitePageSource(dataDir: string): PageSource {
  const files = sqliteFiles(dataDir);
  const db = openEventsDb(files.events, {}, 1);
  const keys = new SqliteKeyRepository(files.keys, { pageCacheMb: 1 });
  const readPage = foldPageReader(db);
  const sealedEmails = db.prepare<[Record<string, unknown>], SealedRow>(SEALED_EMAILS).raw(true);
  return {
    keys,
    async *pages(after, pageSize) {
      const pages = pagesAfterBy(
        async (from, limit) => readPage(from, limit),
        after,
        pageSize,
        (page) => page,
      );
      for await (const { events, emailEvents, last } of pages) yield { events, emailEvents, last };
    },
    async sealedEmails(after, last): Promise<SealedEmail[]> {
      return sealedEmails
        .all({ after, last, field: JSON.stringify(EMAIL_FIELD) })
        .map(([id, keyId, iv, tag, ciphertext, fields]) => ({
          id,
          sealed: { keyId, iv, tag, ciphertext, fields: JSON.parse(fields) as string[] },
        }));
    },
    async close() {
      db.close();
      await keys.close();
    },
  };
}
