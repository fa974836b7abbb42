import { v5 as uuidv5 } from 'uuid';
import { publish } from '../app/publish.js';
import { configurePurpose } from '../app/purposes.js';
import type { LedgerContext } from '../app/ledger-context.js';
import { DEMO_PURPOSES, syntheticStream } from './synthetic.js';

/** Average events per contact: prospects have one or two, customers a history. */
export const DEMO_EVENTS_PER_CONTACT = 4;
const DEMO_NAMESPACE = '6f0d3c1e-4b7a-4f58-9b38-2f1de0a1c9a4';
const BATCH = 1000;
const PUBLISHERS = 4;

/**
 * Publishes a synthetic institution through the same path as upstream systems (validation,
 * sealing, hash chains). Event ids are derived from the seed, so running the demo twice appends
 * nothing the second time: every event is reported as a duplicate.
 */
export async function publishDemo(
  ledger: LedgerContext,
  options: { contacts: number; seed?: number; until?: Date },
  onProgress: (published: number) => void = () => {},
): Promise<{ events: number; appended: number; duplicates: number }> {
  // The institution's purposes come first: a consent is accepted for a configured purpose only.
  for (const [code, settings] of Object.entries(DEMO_PURPOSES)) await configurePurpose(ledger, code, settings);
  const seed = options.seed ?? 1;
  const events = options.contacts * DEMO_EVENTS_PER_CONTACT;
  const stream = syntheticStream({ events, contacts: options.contacts, seed, until: options.until ?? new Date() });
  let sequence = 0;
  let published = 0;
  let appended = 0;
  let duplicates = 0;
  const nextBatch = () => {
    const batch: unknown[] = [];
    while (batch.length < BATCH) {
      const next = stream.next();
      if (next.done) break;
      batch.push({ ...(next.value as object), id: uuidv5(`${seed}:${sequence++}`, DEMO_NAMESPACE) });
    }
    return batch;
  };
  // A few publishers at once, as several upstream systems would: their batches share commits.
  const publisher = async () => {
    for (let batch = nextBatch(); batch.length > 0; batch = nextBatch()) {
      const result = await publish(ledger, { events: batch });
      appended += result.appended.length;
      duplicates += result.duplicates.length;
      published += batch.length;
      onProgress(published);
    }
  };
  await Promise.all(Array.from({ length: PUBLISHERS }, publisher));
  return { events: published, appended, duplicates };
}
