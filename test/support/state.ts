import Database from 'better-sqlite3';
import { join } from 'node:path';

/** Every read-model row of a data directory's state.db, in a stable order, for comparisons. */
export function dumpReadModels(dir: string) {
  const db = new Database(join(dir, 'state.db'), { readonly: true });
  try {
    return {
      contacts: db.prepare('SELECT * FROM contacts ORDER BY contact_id').all(),
      consents: db.prepare('SELECT * FROM consents ORDER BY contact_id, purpose').all(),
      orders: db.prepare('SELECT * FROM orders ORDER BY order_id').all(),
      emailIndex: db.prepare('SELECT * FROM email_index ORDER BY email_hash, contact_id').all(),
    };
  } finally {
    db.close();
  }
}
