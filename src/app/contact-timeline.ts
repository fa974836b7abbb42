import { UnknownContact } from '../domain/errors.js';
import { contactStream } from '../domain/identifiers.js';
import { hiddenScopes } from '../domain/forgetting.js';
import { withheldScopes } from '../domain/disclosure.js';
import type { StoredEvent } from '../store/event-store.js';
import type { LedgerContext } from './ledger-context.js';
import { openEvent, type OpenedEvent } from './sealing.js';

/** A contact's stream with every seal opened in memory; erased parts listed as erased. */
export async function contactTimeline(context: LedgerContext, contactId: string): Promise<OpenedEvent[]> {
  return openStream(context, contactId, await context.store.readStream(contactStream(contactId)));
}

/**
 * Opens a contact stream already read; an empty one is an unknown contact. A seal of a scope that
 * a forgetting event of this stream closed (hiddenScopes) reads as erased without asking for its key;
 * one kept for another reader (withheldScopes: a forgotten person's request evidence), as withheld.
 */
export async function openStream(
  { keys }: Pick<LedgerContext, 'keys'>,
  contactId: string,
  stored: readonly StoredEvent[],
): Promise<OpenedEvent[]> {
  if (stored.length === 0) throw new UnknownContact(contactId);
  const forgotten = hiddenScopes(stored);
  const withheld = withheldScopes(stored);
  const opened: OpenedEvent[] = [];
  for (const event of stored) opened.push(await openEvent(event, keys, forgotten, withheld));
  return opened;
}
