/**
 * An upstream system publishing a batch to the ledger with its typed client (README "Client"):
 *   LEDGER_URL=http://127.0.0.1:8080 LEDGER_API_KEY=<a publisher key> npx tsx examples/publish-batch.ts batch.json
 * batch.json: `{ "events": [...] }`, each event with its own `id` (a UUID). It prints counts, never a value.
 */
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import {
  createLedgerClient,
  LedgerProblem,
  unwrap,
  type LedgerClient,
  type PublishedEvent,
  type PublishResult,
} from 'contact-ledger/client';

/**
 * Publishes a batch (all of it appended, or none). A 503 or a 429: the same batch again after
 * Retry-After; its event ids make the retry idempotent (what the first try stored comes back in
 * `duplicates`). A 409 concurrency conflict: a contact's stream moved past the `expectedRevision`
 * given; the contact is re-read, and the batch sent again expecting the revision it has now.
 */
export async function publishBatch(
  ledger: LedgerClient,
  events: PublishedEvent[],
  wait: (ms: number) => Promise<unknown> = sleep,
): Promise<PublishResult> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await unwrap(ledger.POST('/v1/events', { body: { events } }));
    } catch (error) {
      if (!(error instanceof LedgerProblem) || attempt === 5) throw error;
      if (error.kind === 'unavailable' || error.kind === 'throttled') await wait((error.retryAfterSeconds ?? 5) * 1000);
      else if (error.kind === 'conflict') events = await decideAgain(ledger, events, error);
      else throw error; // an id re-used, a rule refused: a bug or an operator's decision, never retried as is
    }
  }
}

/** The batch after a conflict: the contact re-read; its events expect its revision now, if it is still active. */
async function decideAgain(ledger: LedgerClient, events: PublishedEvent[], conflict: LedgerProblem) {
  const moved = events.find((event) => `contact-${event.contactId}` === conflict.stream);
  if (!moved || conflict.actualRevision === null) throw conflict;
  const contact = await unwrap(
    ledger.GET('/v1/contacts/{contactId}', { params: { path: { contactId: moved.contactId } } }),
  );
  if (contact.status !== 'active') throw conflict; // forgotten meanwhile: nothing left to update
  const expectedRevision = conflict.actualRevision;
  return events.map((event) => (event.contactId === moved.contactId ? { ...event, expectedRevision } : event));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const ledger = createLedgerClient({ baseUrl: process.env.LEDGER_URL!, apiKey: process.env.LEDGER_API_KEY! });
  const { events } = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as { events: PublishedEvent[] };
  try {
    const { appended, duplicates } = await publishBatch(ledger, events);
    console.log(`appended ${appended.length}, duplicates ${duplicates.length}`);
  } catch (error) {
    console.error(error instanceof LedgerProblem ? error.message : 'the ledger cannot be reached');
    process.exitCode = 1;
  }
}
