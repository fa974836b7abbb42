import type { ConsentState } from '../domain/consent.js';
import type { ContactRecord } from './contact-record.js';
import type { ReadModelChanges } from './fold-batch.js';

/**
 * Storage port of the read models (contacts, consents, orders, e-mail index) and their
 * checkpoints: state.db on the embedded default, tables in PostgreSQL otherwise. Adapters store
 * rows; the folding lives in `ReadModelWindow`, once for every backend. Nothing personal is stored.
 */
export interface ReadModelStore {
  checkpoint(projection: string): Promise<number>;
  contacts(contactIds: readonly string[]): Promise<ContactRecord[]>;
  consents(contactIds: readonly string[]): Promise<Map<string, ConsentState>>;
  /** Writes a batch's changes and moves the checkpoint in one transaction (exactly once). */
  commit(projection: string, changes: ReadModelChanges, checkpoint: number): Promise<void>;
  /** Empties every read model and checkpoint, for a rebuild from the log. */
  reset(): Promise<void>;
  contactsByEmailHash(hash: string): Promise<string[]>;
  /** Contacts with recency < before, in (recency, id) order, after a keyset position. */
  recencyPage(
    before: string,
    after: { recency: string; contactId: string } | null,
    limit: number,
  ): Promise<Array<{ contactId: string; recency: string }>>;
  close(): Promise<void>;
}
