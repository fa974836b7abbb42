import { Type, type Static } from '@sinclair/typebox';
import { v5 as uuidv5 } from 'uuid';
import { Instant, Nullable, Obj } from '../domain/schema-kit.js';
import { expiryCutoff, expiryOfYes } from '../domain/consent.js';
import type { ValidEvent } from '../domain/envelope.js';
import { requirePastAsOf } from '../domain/as-of.js';
import type { ReadModels } from '../projections/read-models.js';
import { appendSealed } from './append-sealed.js';
import type { LedgerContext } from './ledger-context.js';
import { readPurposeTimeline } from './purposes.js';

/** What the job answers (the API document's schema; the type derives from it). */
export const ConsentExpiryReport = Obj(
  {
    asOf: Instant(),
    expired: Type.Integer({
      minimum: 0,
      description:
        '"yes" brought back to "unknown" by this run (those a previous run had already expired are not counted)',
    }),
    purposes: Type.Record(
      Type.String(),
      Obj({
        expiryDays: Type.Integer({ minimum: 1 }),
        cutoff: Nullable(Instant()),
        expired: Type.Integer({ minimum: 0 }),
      }),
      {
        description:
          'per purpose whose expiry is enabled: its days, the last activity before which a "yes" expired, ' +
          'and the count',
      },
    ),
  },
  { title: 'ConsentExpiryReport' },
);
export type ConsentExpiryReport = Static<typeof ConsentExpiryReport>;

/** Event ids derive from what the expiry judged: a second run over the same "yes" appends nothing (a duplicate). */
const EXPIRY_NAMESPACE = '0b9a7c52-7a51-4c1e-9f0c-5e1d2c3b4a69';

/**
 * The consent-expiry job (reference: "Toutes les nuits, SPREAD vérifie les consentements à
 * expirer"): every "yes" of a purpose whose expiry is enabled now and whose last prolonging
 * activity plus the expiry is before `asOf` goes back to "unknown" with a ConsentExpired. The read
 * model proposes; each event names the last activity it judged, so one that a later-logged
 * activity superseded changes nothing in any fold (no lock on the streams it writes).
 */
export async function expireConsents(
  context: LedgerContext & { readModels: Pick<ReadModels, 'expiringConsents'> },
  command: { asOf?: Date; onProgress?: (expired: number) => void } = {},
): Promise<ConsentExpiryReport> {
  const now = context.now();
  const asOf = command.asOf ?? now;
  requirePastAsOf(asOf, now, 'consent expiry');
  const at = asOf.toISOString();
  const report: ConsentExpiryReport = { asOf: at, expired: 0, purposes: {} };
  for (const purpose of (await readPurposeTimeline(context.store)).current.values()) {
    if (purpose.expiryDays === null) continue;
    const cutoff = expiryCutoff(purpose, at);
    const tally = (report.purposes[purpose.code] = { expiryDays: purpose.expiryDays, cutoff, expired: 0 });
    if (cutoff === null) continue;
    for await (const page of context.readModels.expiringConsents(purpose.code, cutoff)) {
      const events = page.map(({ contactId, lastActivityAt }): ValidEvent => {
        const data = expiryOfYes(purpose, lastActivityAt);
        const id = uuidv5(`${contactId}\n${data.purpose}\n${data.lastActivityAt}`, EXPIRY_NAMESPACE);
        return { id, type: 'ConsentExpired', contactId, organizationId: '', occurredAt: at, data };
      });
      const { appended } = await appendSealed(context, events);
      tally.expired += appended.length;
      report.expired += appended.length;
      command.onProgress?.(report.expired);
    }
  }
  return report;
}
