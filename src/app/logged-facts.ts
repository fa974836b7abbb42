import { isEventType } from '../domain/catalog.js';
import { contactIdOfStream } from '../domain/identifiers.js';
import type { LoggedFact } from '../domain/inactive-contacts.js';
import type { StoredEvent } from '../store/event-store.js';

/** Stored events as the forgetting rules read them: clear fields, the contact of their stream. */
export function loggedFacts(events: readonly StoredEvent[]): LoggedFact[] {
  return events.flatMap((event) => {
    const contactId = contactIdOfStream(event.stream);
    if (!contactId || !isEventType(event.type)) return [];
    const { id, type, position, occurredAt, data } = event;
    return [{ id, type, contactId, position, occurredAt, data }];
  });
}
