import { ROLES } from '../domain/catalog.js';
import type { ConsentState, ConsentStatus } from '../domain/consent.js';
import type { PurposesState } from '../domain/purposes.js';
import {
  answerPatterns,
  exclusionChecks,
  EXCLUSION_REASONS,
  type Campaign,
  type TargetingResult,
} from '../domain/targeting.js';
import type { TargetScope } from './targeting-sql.js';
import { ValidationError } from '../domain/errors.js';
import type { InactivityFacts } from '../domain/inactive-contacts.js';
import { pagesAfterBy, type PageExtent } from '../store/pages.js';
import type { RowProofs } from '../crypto/row-proof.js';
import { contactFromRow, currentRecency, provenFactsOf, type ContactRecord } from './contact-record.js';
import { orderFromRow, purposeFromRow, ReadModelWindow, type FoldEvent } from './fold-batch.js';
import {
  CHECKPOINT_RECORDS,
  CONSENTS,
  CONTACT_ORGANIZATIONS,
  CONTACTS,
  EMAIL_INDEX,
  ORDERS,
  PURPOSES,
  VERIFICATIONS,
  type Row,
  type Table,
} from './tables.js';
import {
  INACTIVITY_COLUMNS,
  type DeliveryCheckpoints,
  type ExpiringRow,
  type InactivityRow,
  type InactivityValues,
  type ReadModelStore,
} from './read-model-store.js';
import { CommittedRows } from './committed-rows.js';

/** The name of the verification's record (and of its checkpoint: the position it verified). */
const VERIFICATION = 'verification';

export interface ContactReadModel extends Omit<ContactRecord, 'recency'> {
  recency: { date: string; eventId: string; basis: 'activity' | 'registration' } | null;
}

/** A record of the log, by position and its hash: what a checkpoint points at. */
export interface LogRecord {
  position: number;
  hash: string;
}

/** A contact the read model proposes to the inactive-contact batch. */
export interface ProposedContact {
  facts: InactivityFacts;
  /** The latest end of validity of its own tickets. */
  validUntil: string | null;
  /** The log position its row was folded up to. */
  headPosition: number;
  /** The row's proof holds: written by the ledger as it stands (or restored from an older copy). */
  proven: boolean;
}

export interface RecencyPage {
  items: Array<{ contactId: string; recency: string; role: string | null }>;
  /** Pass back as `after` for the next page; null on the last page. */
  next: string | null;
}

/**
 * The read models (contacts with their exact recency, consents, orders, e-mail index) over any
 * backend: a batch loads the rows it touches, folds every event over them in memory, then writes
 * the rows and the checkpoint in one transaction (exactly once).
 */
export class ReadModels {
  /** The rows of the windows this instance committed, lent to the next windows (see CommittedRows). */
  private readonly committed = new CommittedRows();

  constructor(
    private readonly store: ReadModelStore,
    /** Proves each contact row written, and checks the proof of each row the batch is proposed from. */
    private readonly proofs: RowProofs,
  ) {}

  reset(): Promise<void> {
    this.committed.clear();
    return this.store.reset();
  }

  /**
   * New, empty read models beside these, for a rebuild (see ReadModelStore.rebuildTarget): these
   * stay whole for readers until `swapIn` replaces them, checkpoint included, in one transaction.
   */
  async rebuilding(): Promise<{ models: ReadModels; swapIn(): Promise<void>; discard(): Promise<void> }> {
    const target = await this.store.rebuildTarget();
    return {
      models: new ReadModels(target.store, this.proofs),
      swapIn: async () => {
        await target.swapIn();
        // The rows kept are those of the tables just replaced.
        this.committed.clear();
      },
      discard: () => target.discard(),
    };
  }

  /** The subscribers' delivery checkpoints and dead letters, kept beside the read models. */
  get delivery(): DeliveryCheckpoints {
    return this.store;
  }

  checkpoint(projection: string): Promise<number> {
    return this.store.checkpoint(projection);
  }

  /** The log record a projection's checkpoint points at, as recorded with it (null: none recorded). */
  async checkpointRecord(projection: string): Promise<(LogRecord & { keyedBy: string }) | null> {
    const [row] = await this.store.rows(CHECKPOINT_RECORDS, 'projection', [projection]);
    return row ? { position: row.position, hash: row.hash, keyedBy: row.keyed_by } : null;
  }

  /** Whether the rows readers see are keyed by another master key than this one (a rotation, until the rebuild). */
  async keyedByAnother(projection: string): Promise<boolean> {
    const record = await this.checkpointRecord(projection);
    return record !== null && record.keyedBy !== this.keyedBy;
  }

  /** The master key rows written now are keyed by (row proofs, e-mail blind index). */
  get keyedBy(): string {
    return this.proofs.masterKeyId;
  }

  /**
   * Folds events into a window, first taking the rows they touch that it does not hold: from
   * the windows committed before it, or else from storage; `emailEvents`: those that set an
   * e-mail (see emailEventIds).
   */
  async fold(window: ReadModelWindow, events: readonly FoldEvent[], emailEvents: ReadonlySet<string>): Promise<void> {
    const missing = window.missingRows(events);
    const { lent, toLoad } = this.committed.lend(missing);
    const [contacts, consents, orders, purposes] = await Promise.all([
      this.store.rows(CONTACTS, 'contact_id', toLoad.contacts),
      this.consentStates(toLoad.consents),
      this.store.rows(ORDERS, 'order_id', toLoad.orders),
      missing.purposes ? this.purposes() : undefined,
    ]);
    window.hold(missing, {
      contacts: new Map([...lent.contacts, ...contacts.map((row) => [row.contact_id, contactFromRow(row)] as const)]),
      consents: new Map([...lent.consents, ...consents]),
      orders: new Map([...lent.orders, ...orders.map((row) => [row.order_id, orderFromRow(row)] as const)]),
      ...(purposes ? { purposes } : {}),
    });
    window.add(events, emailEvents);
  }

  /**
   * Writes a window's rows and moves the checkpoint in one transaction (exactly once);
   * `emailHashes`: the blind-index hashes of the e-mail events folded, by event id, awaited only
   * once the other rows are written (they may still be in the making on another thread).
   */
  async commit(
    projection: string,
    window: ReadModelWindow,
    checkpoint: LogRecord,
    emailHashes: Promise<ReadonlyMap<string, string>>,
  ): Promise<void> {
    await this.store.commit(projection, checkpoint.position, async (writes) => {
      await writes.upsert(CHECKPOINT_RECORDS, [{ projection, ...checkpoint, keyed_by: this.keyedBy }]);
      await writes.upsert(CONTACTS, window.contactRows(this.proofs));
      await writes.upsert(CONSENTS, window.consentRows());
      await writes.upsert(ORDERS, window.orderRows());
      await writes.upsert(PURPOSES, window.purposeRows());
      await writes.upsert(CONTACT_ORGANIZATIONS, window.membershipRows());
      const emails = window.emailRows(await emailHashes);
      await writes.upsert(EMAIL_INDEX, emails.indexed);
      await writes.delete(EMAIL_INDEX, 'contact_id', emails.removed);
    });
    this.committed.keep(window.held);
  }

  private async consentStates(contactIds: readonly string[]): Promise<Map<string, ConsentState>> {
    const states = new Map<string, ConsentState>(contactIds.map((id) => [id, {}]));
    for (const row of await this.store.rows(CONSENTS, 'contact_id', contactIds)) {
      states.get(row.contact_id)![row.purpose] = {
        status: row.status as ConsentStatus,
        changedAt: row.changed_at,
        lastActivityAt: row.last_activity_at,
      };
    }
    return states;
  }

  /** The purposes' configuration as the read models have folded it. */
  async purposes(): Promise<PurposesState> {
    return new Map((await this.store.allRows(PURPOSES)).map((row) => [row.code, purposeFromRow(row)]));
  }

  /** Every row of a table in key order, a page at a time (a verification's walk). */
  async *rowsInKeyOrder<T extends Table>(table: T, pageSize = 5_000): AsyncGenerator<Row<T>[]> {
    const keyOf = (row: Row<T>) => table.key.map((column) => row[column as keyof Row<T>]);
    const read = (after: unknown[] | null, limit: number) => this.store.rowsAfter(table, after, limit);
    const extent = (rows: Row<T>[]): PageExtent<unknown[] | null> => ({
      count: rows.length,
      last: rows.length > 0 ? keyOf(rows.at(-1)!) : null,
    });
    yield* pagesAfterBy(read, null as unknown[] | null, pageSize, extent);
  }

  /** Records what the last verification found, with a checkpoint at the position it verified. */
  recordVerification(position: number, differences: number, at: Date): Promise<void> {
    return this.store.commit(VERIFICATION, position, (writes) =>
      writes.upsert(VERIFICATIONS, [{ name: VERIFICATION, verified_at: at.toISOString(), position, differences }]),
    );
  }

  /** What the last verification found, if any ran since the read models were last rebuilt. */
  async lastVerification(): Promise<{ at: string; position: number; differences: number } | null> {
    const [row] = await this.store.rows(VERIFICATIONS, 'name', [VERIFICATION]);
    return row ? { at: row.verified_at, position: row.position, differences: row.differences } : null;
  }

  /** Contacts whose e-mail has this blind-index hash. */
  contactsByEmailHash(hash: string): Promise<string[]> {
    return this.store.contactsByEmailHash(hash);
  }

  async contact(contactId: string): Promise<ContactReadModel | null> {
    const [row] = await this.store.rows(CONTACTS, 'contact_id', [contactId]);
    if (!row) return null;
    const record = contactFromRow(row);
    const { recency: _recency, ...rest } = record;
    return { ...rest, recency: currentRecency(record) };
  }

  async consents(contactId: string): Promise<ConsentState> {
    return (await this.consentStates([contactId])).get(contactId)!;
  }

  /**
   * The listed contacts whose recency is older than `before`, a page at a time, in contact id
   * order: what the inactive-contact batch proposes. Each says whether its row's proof holds: a
   * page's proofs are checked on the proof thread while the next page is read.
   */
  async *inactivityFactsBefore(before: string, pageSize = 10_000): AsyncGenerator<ProposedContact[]> {
    const read = (after: string, limit: number) => this.store.inactivityPage(before, after, limit);
    let checking: Promise<ProposedContact[]> | null = null;
    for await (const rows of pagesAfterBy(
      read,
      '',
      pageSize,
      byLast((row) => valueOf(row, 'contact_id')),
    )) {
      const checked = this.proposedContacts(rows);
      checked.catch(() => {}); // awaited, and its error thrown, once the page before is yielded
      if (checking) yield await checking;
      checking = checked;
    }
    if (checking) yield await checking;
  }

  private async proposedContacts(rows: readonly InactivityValues[]): Promise<ProposedContact[]> {
    const held = await this.proofs.holdAll({
      messages: rows.map((row) => provenFactsOf(row)),
      proofs: rows.map((row) => valueOf(row, 'proof')),
    });
    return rows.map((row, i) => ({
      facts: inactivityFactsOfRow(row),
      validUntil: valueOf(row, 'valid_until'),
      headPosition: valueOf(row, 'head_position'),
      proven: held[i] === 1,
    }));
  }

  /** The orders not purged whose every end of validity is before `before`, with their buyer, a page at a time. */
  async *purgeableOrdersBefore(
    before: string,
    pageSize = 10_000,
  ): AsyncGenerator<Array<{ orderId: string; contactId: string }>> {
    const read = (after: string, limit: number) => this.store.purgeablePage(before, after, limit);
    for await (const rows of pagesAfterBy(
      read,
      '',
      pageSize,
      byLast((row) => row.order_id),
    )) {
      yield rows.map((row) => ({ orderId: row.order_id, contactId: row.contact_id }));
    }
  }

  /** The contacts whose "yes" to `purpose` has its last activity before `before`, a page at a time. */
  async *expiringConsents(
    purpose: string,
    before: string,
    pageSize = 5_000,
  ): AsyncGenerator<Array<{ contactId: string; lastActivityAt: string }>> {
    type Cursor = { lastActivityAt: string; contactId: string } | null;
    const read = (after: Cursor, limit: number) => this.store.expiringPage(purpose, before, after, limit);
    const extent = (rows: ExpiringRow[]): PageExtent<Cursor> => {
      const last = rows.at(-1);
      return {
        count: rows.length,
        last: last ? { lastActivityAt: last.last_activity_at, contactId: last.contact_id } : null,
      };
    };
    for await (const rows of pagesAfterBy(read, null as Cursor, pageSize, extent)) {
      yield rows.map((row) => ({ contactId: row.contact_id, lastActivityAt: row.last_activity_at }));
    }
  }

  /**
   * A campaign's audience among the contacts in scope, judged by the purposes as the read models
   * hold them now: the eligible ids in id order, the count of each exclusion, the contacts without
   * any answer. Counted by the database in one pass.
   */
  async target(scope: TargetScope, campaign: Campaign & { channel: string }): Promise<TargetingResult> {
    const patterns = answerPatterns(await this.purposes(), campaign.channel);
    const checks = exclusionChecks({ ...campaign, byOrganization: scope.organizationId !== undefined });
    const tally = await this.store.targetingTally({ scope, patterns, checks });
    const excluded = Object.fromEntries(EXCLUSION_REASONS.map((reason) => [reason, tally[reason] ?? 0]));
    return {
      eligible: tally.eligible ? tally.eligible.split(',') : [],
      excluded: excluded as TargetingResult['excluded'],
      withoutAnswer: tally.without_answer,
      considered: tally.considered,
    };
  }

  /** Contacts of these roles whose recency is older than `before`, in (recency, id) order; keyset paged. */
  async recencyBefore(
    before: string,
    after: string | null,
    limit: number,
    roles: readonly string[] = ROLES,
  ): Promise<RecencyPage> {
    const rows = await this.store.recencyPage(before, roles, after ? decodeCursor(after) : null, limit);
    const items = rows.map((row) => ({ contactId: row.contact_id, recency: row.recency_at!, role: row.role }));
    const last = items.at(-1);
    return { items, next: items.length === limit && last ? encodeCursor(last.recency, last.contactId) : null };
  }
}

/** How far a page of rows walked by id reaches. */
const byLast =
  <R>(idOf: (row: R) => string) =>
  (rows: R[]): PageExtent<string> => ({ count: rows.length, last: rows.length > 0 ? idOf(rows.at(-1)!) : '' });

type InactivityColumn = (typeof INACTIVITY_COLUMNS)[number];
/** Each inactivity column's index in a row's values. */
const INACTIVITY_INDEX = Object.fromEntries(INACTIVITY_COLUMNS.map((column, i) => [column, i])) as Record<
  InactivityColumn,
  number
>;
const valueOf = <C extends InactivityColumn>(row: InactivityValues, column: C) =>
  row[INACTIVITY_INDEX[column]] as InactivityRow[C];

const inactivityFactsOfRow = (row: InactivityValues): InactivityFacts => ({
  contactId: valueOf(row, 'contact_id'),
  role: valueOf(row, 'role'),
  status: valueOf(row, 'status') as InactivityFacts['status'],
  registered: valueOf(row, 'registered_event') !== null,
  customer: valueOf(row, 'customer') === 1,
  balance: valueOf(row, 'balance'),
  legalHold: valueOf(row, 'legal_hold') === 1,
  recency: valueOf(row, 'recency_at'),
});

const encodeCursor = (recency: string, contactId: string) =>
  Buffer.from(JSON.stringify([recency, contactId])).toString('base64url');
function decodeCursor(cursor: string): { recency: string; contactId: string } {
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    decoded = null;
  }
  if (!Array.isArray(decoded) || decoded.length !== 2 || !decoded.every((part) => typeof part === 'string')) {
    throw new ValidationError('after is not a cursor returned by this route', [
      { pointer: '/after', message: 'is not a valid cursor' },
    ]);
  }
  return { recency: decoded[0] as string, contactId: decoded[1] as string };
}
