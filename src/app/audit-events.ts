import type { StoredEvent } from '../store/event-store.js';
import { pagesAfter } from '../store/pages.js';
import type { LedgerContext } from './ledger-context.js';

/**
 * A stored record as an auditor reads it: exactly as stored (the chain's fields included, the
 * sealed part never opened), and whether its sealed part's key was destroyed, by which event.
 */
export type AuditRecord = StoredEvent & { erased: boolean; erasedBy?: string | null };

const PAGE = 1000;

/** The log in position order after `from`, at most `limit` records, page by page. */
export async function* auditEvents(
  { store, keys }: Pick<LedgerContext, 'store' | 'keys'>,
  from: number,
  limit: number,
): AsyncGenerator<AuditRecord[]> {
  let left = limit;
  const read = (after: number, size: number) => store.readAll({ after, limit: Math.min(size, left) });
  for await (const page of pagesAfter(read, from, Math.min(PAGE, limit))) {
    const destroyed = await keys.destroyed(page.flatMap((event) => (event.sealed ? [event.sealed.keyId] : [])));
    yield page.map((event) => {
      const erasedBy = event.sealed ? destroyed.get(event.sealed.keyId) : undefined;
      return erasedBy === undefined ? { ...event, erased: false } : { ...event, erased: true, erasedBy };
    });
    left -= page.length;
    if (left <= 0) return;
  }
}
