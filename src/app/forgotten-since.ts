import { CONTACT_FORGETTING_TYPES, FORGETTING_TYPES } from '../domain/catalog.js';
import { contactIdOfStream } from '../domain/identifiers.js';
import type { ReadModels } from '../projections/read-models.js';
import { READ_MODELS } from '../projections/runner.js';
import type { EventStore } from '../store/event-store.js';
import { pagesAfter } from '../store/pages.js';

const CONTACT_FORGETTINGS: ReadonlySet<string> = new Set(CONTACT_FORGETTING_TYPES);

/**
 * Runs a read-model query, then reads the log for the contacts forgotten since the position the
 * read models had reached before it: what the query's rows may not show yet (the runner folds
 * about a second behind, another process may have forgotten them). The look-up, targeting and the
 * recency list drop those, so a forgetting is final for them as soon as it is in the log they read.
 * Forgettings at or before that position are in the rows already (a forgotten contact's row is
 * no longer active, and no later event makes it active again).
 */
export async function withForgettingsSince<T>(
  context: { store: Pick<EventStore, 'readByTypes'>; readModels: Pick<ReadModels, 'checkpoint'> },
  query: () => Promise<T>,
): Promise<{ result: T; forgotten: ReadonlySet<string> }> {
  const position = await context.readModels.checkpoint(READ_MODELS);
  const result = await query();
  const forgotten = new Set<string>();
  // The types of the store's forgetting index (order purges included), so that the read is indexed.
  const read = (after: number, limit: number) => context.store.readByTypes(FORGETTING_TYPES, { after, limit });
  for await (const page of pagesAfter(read, position, 1000)) {
    for (const event of page) {
      const contactId = contactIdOfStream(event.stream);
      if (contactId && CONTACT_FORGETTINGS.has(event.type)) forgotten.add(contactId);
    }
  }
  return { result, forgotten };
}
