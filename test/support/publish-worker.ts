/**
 * A separate process publishing to a shared data directory, for concurrency tests: waits until
 * the agreed start time so that every worker races, then prints one JSON line with the outcome.
 * argv: startAtMs, then a JSON array of publish bodies.
 */
import { publish } from '../../src/app/publish.js';
import { readConfig } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { openLedger } from '../../src/app/open-ledger.js';
import { LedgerError } from '../../src/domain/errors.js';

const [startAt, bodies] = [Number(process.argv[2]), JSON.parse(process.argv[3] ?? '[]') as unknown[]];
const opened = await openLedger(readConfig(), createLogger('silent'));
await new Promise((resolve) => setTimeout(resolve, Math.max(0, startAt - Date.now())));
const outcomes: unknown[] = [];
for (const body of bodies) {
  try {
    const result = await publish(opened, body);
    outcomes.push({ ok: true, appended: result.appended.length, duplicates: result.duplicates.length });
  } catch (error) {
    outcomes.push({ ok: false, error: error instanceof LedgerError ? error.name : String(error) });
  }
}
await opened.close();
console.log(JSON.stringify(outcomes));
