import { setTimeout as sleep } from 'node:timers/promises';
import type { Subscription } from 'rxjs';
import { passesOnWakeUps } from '../store/catch-up.js';
import type { EventFact, EventStore } from '../store/event-store.js';
import { pagesAfter } from '../store/pages.js';
import type { LogRecord, ReadModels } from './read-models.js';
import { domainEvents, emailEventIds, ReadModelWindow, type FoldEvent } from './fold-batch.js';

/** A catch-up with a backlog larger than this is folded in bulk windows. */
const BULK_BACKLOG = 5000;
/**
 * Events read per page in bulk. A page's JSON text (about 210 bytes an event) must stay under
 * V8's largest young object (128 KB): a larger string is allocated in the old generation, and
 * every page would pile up there, on both threads, until a full collection (1,000-event pages:
 * 40 - 60 MB more peak memory and 10 % slower).
 */
export const BULK_PAGE = 500;
/**
 * Rows (contacts, consents, orders) a window holds before it is committed: bounds the memory of
 * a rebuild or of a live pass whatever the size of the backlog, while each contact's row is
 * still loaded and written about once per window instead of once per page.
 */
const WINDOW_ROWS = 400_000;

/**
 * After each live pass the runner rests this many times as long as the pass took, between 50 ms
 * and 1 s: it takes at most a fifth of the time, and under a burst of appends its windows grow
 * instead of its share (each row loaded and written once per window, so a larger window costs
 * less per event), while the read models stay at most about a second behind.
 */
const LIVE_REST = { perPassMs: 4, minMs: 50, maxMs: 1000 };

/** The name the read models' checkpoint is kept under. */
export const READ_MODELS = 'read-models';

/** Blind-index hashes of the e-mails a batch sets, by event id (opening seals is I/O). */
export type EmailHashes = (
  events: ReadonlyArray<Pick<EventFact, 'id' | 'sealed'>>,
) => Promise<ReadonlyMap<string, string>>;

/** A page of the log as the read models fold it. */
export interface FoldPage {
  /** Its domain events. */
  events: FoldEvent[];
  /** Ids of those that set an e-mail (see emailEventIds). */
  emailEvents: ReadonlySet<string>;
  /**
   * The blind-index hashes of the page's e-mails, by event id: needed only when the window is
   * committed, so a bulk reader may still be opening the seals (on another thread) while the page is folded.
   */
  emailHashes: Promise<ReadonlyMap<string, string>>;
  /** The position of its last event. */
  last: number;
}

/** Pages of the log after a position, `pageSize` events each (a bulk reader may prepare them on another thread). */
export type FoldPages = (after: number, pageSize: number) => AsyncIterable<FoldPage>;

/** The pages read on this thread: facts from the store, e-mail hashes opened here. */
export function pagesInThread(store: EventStore, emailHashes: EmailHashes): FoldPages {
  return async function* (after, pageSize) {
    for await (const facts of pagesAfter((from, limit) => store.readFacts({ after: from, limit }), after, pageSize)) {
      yield {
        events: domainEvents(facts),
        emailEvents: emailEventIds(facts),
        emailHashes: emailHashes(facts),
        last: facts.at(-1)!.position,
      };
    }
  };
}

export interface ProjectionLag {
  position: number;
  head: number;
  lag: number;
  /** Why the live runner stopped (error name), or null while it runs or has not started. */
  failed: string | null;
  /** A log found older than, or other than, the read models (a restore), and what was done; null: none. */
  logMismatch: LogMismatch | null;
}

/**
 * Read models folded from another log than the one there now: their checkpoint is beyond its
 * head (`aheadOfLog`: events.db restored from an older copy), or at a record whose hash differs
 * (`otherHistory`). Catching up from there would skip events silently. Or keyed by another
 * master key (`otherMasterKey`: a rotation since), whose e-mail index and row proofs no longer hold.
 */
export interface LogMismatch {
  reason: 'aheadOfLog' | 'otherHistory' | 'otherMasterKey';
  checkpoint: number;
  head: number;
  /** `rebuilt` from the log (the default), or `refused` (LEDGER_ON_LOG_MISMATCH=refuse). */
  action: 'rebuilt' | 'refused';
  at: string;
}

/** What the runner does with read models folded from another log: rebuild them, or refuse to go on. */
export type OnLogMismatch = 'rebuild' | 'refuse';

/** The refusal to catch up read models folded from another log (LEDGER_ON_LOG_MISMATCH=refuse). */
export class LogMismatchError extends Error {
  constructor(readonly mismatch: LogMismatch) {
    const found =
      mismatch.reason === 'aheadOfLog'
        ? `the read models are at position ${mismatch.checkpoint}, beyond the log's head ${mismatch.head}`
        : `the log holds another record at the read models' position ${mismatch.checkpoint}`;
    super(`${found} (was the log restored?): run \`ledger projections rebuild\` before starting`);
    this.name = 'LogMismatchError';
  }
}

/**
 * Keeps the read models up to date: catches up from the checkpoint in batches, then follows
 * live appends, committing each batch with its checkpoint in one read-model transaction, so a
 * stop anywhere loses and repeats nothing.
 */
export class ProjectionRunner {
  private readonly emailHashes: EmailHashes;
  private readonly batchSize: number;
  private readonly windowRows: number;
  private readonly pages: FoldPages;
  private readonly bulkPages: FoldPages;
  private failure: string | null = null;
  private readonly onLogMismatch: OnLogMismatch;
  private logMismatch: LogMismatch | null = null;

  constructor(
    private readonly store: EventStore,
    private readonly models: ReadModels,
    options: {
      emailHashes?: EmailHashes;
      batchSize?: number;
      windowRows?: number;
      /** Where the pages of a long backlog come from (default: this thread). */
      bulkPages?: FoldPages;
      /** Read models folded from another log: rebuild them (default), or refuse to catch up. */
      onLogMismatch?: OnLogMismatch;
    } = {},
  ) {
    this.onLogMismatch = options.onLogMismatch ?? 'rebuild';
    this.emailHashes = options.emailHashes ?? (async () => new Map());
    this.batchSize = options.batchSize ?? 1000;
    this.windowRows = options.windowRows ?? WINDOW_ROWS;
    this.pages = pagesInThread(store, this.emailHashes);
    this.bulkPages = options.bulkPages ?? this.pages;
  }

  /** A short backlog, or live appends: pages read on this thread, folded in one window. */
  private get inThread() {
    return { pages: this.pages, pageSize: this.batchSize, windowRows: this.windowRows };
  }

  /** A long backlog, or a rebuild: pages of BULK_PAGE events from `pages`. */
  private inBulk(pages: FoldPages) {
    return { pages, pageSize: BULK_PAGE, windowRows: this.windowRows };
  }

  /**
   * Reads and applies the log from the checkpoint up to the head (or until `shouldStop`);
   * returns the position reached. A long backlog is folded in bulk windows.
   */
  async catchUp(
    onProgress: (position: number) => void = () => {},
    shouldStop: () => boolean = () => false,
  ): Promise<number> {
    if (await this.checkAgainstLog()) return this.rebuild(onProgress, shouldStop);
    const from = await this.models.checkpoint(READ_MODELS);
    const bulk = (await this.store.headPosition()) - from > BULK_BACKLOG;
    return this.applyLog(from, bulk ? this.inBulk(this.bulkPages) : this.inThread, onProgress, shouldStop);
  }

  /**
   * Compares the read models with the log (what every catch-up does first): read models folded
   * from another log are to be rebuilt (the mismatch is returned, and shown by lag()), or, when
   * the runner refuses them, a LogMismatchError. null: they agree.
   */
  async checkAgainstLog(): Promise<LogMismatch | null> {
    const mismatch = await this.mismatchWithLog();
    if (!mismatch) return null;
    // A rotation is the operator's own doing, not a restore to look into: always rebuilt.
    const action = this.onLogMismatch === 'refuse' && mismatch.reason !== 'otherMasterKey' ? 'refused' : 'rebuilt';
    this.logMismatch = { ...mismatch, action, at: new Date().toISOString() };
    if (action === 'refused') throw new LogMismatchError(this.logMismatch);
    return this.logMismatch;
  }

  /**
   * Whether the read models' checkpoint is beyond the log's head, or at a record whose hash is not
   * the one recorded with it; null when they agree (or nothing was folded yet).
   */
  private async mismatchWithLog(): Promise<Pick<LogMismatch, 'reason' | 'checkpoint' | 'head'> | null> {
    const checkpoint = await this.models.checkpoint(READ_MODELS);
    if (checkpoint === 0) return null;
    const head = await this.store.headPosition();
    if (checkpoint > head) return { reason: 'aheadOfLog', checkpoint, head };
    const [recorded, record] = await Promise.all([
      this.models.checkpointRecord(READ_MODELS),
      this.recordAt(checkpoint),
    ]);
    if (recorded && (record === null || record.hash !== recorded.hash))
      return { reason: 'otherHistory', checkpoint, head };
    if (recorded && recorded.keyedBy !== this.models.keyedBy) return { reason: 'otherMasterKey', checkpoint, head };
    return null;
  }

  /** The log's record at a position, or null (positions of EventStoreDB are not dense). */
  private async recordAt(position: number): Promise<LogRecord | null> {
    const [record] = await this.store.readAll({ after: position - 1, limit: 1 });
    return record && record.position === position ? { position, hash: record.hash } : null;
  }

  /**
   * Recreates every read model from the log, exactly: folds the log in bulk windows into new,
   * empty read models beside them, then swaps those in with their checkpoint in one transaction.
   * Readers see the read models as they were until then, never empty or half-built ones. A
   * rebuild stopped (`shouldStop`), failed or killed midway replaces nothing: its new tables are
   * dropped (by the next rebuild, after a kill), and the position returned is the checkpoint kept.
   */
  async rebuild(
    onProgress: (position: number) => void = () => {},
    shouldStop: () => boolean = () => false,
  ): Promise<number> {
    const pages = (await this.store.headPosition()) > BULK_BACKLOG ? this.bulkPages : this.pages;
    const target = await this.models.rebuilding();
    let stopped = false;
    try {
      const folded = await this.applyLog(0, this.inBulk(pages), onProgress, () => (stopped = shouldStop()), {
        models: target.models,
        fresh: true,
      });
      if (stopped) {
        await target.discard();
        return this.models.checkpoint(READ_MODELS);
      }
      await target.swapIn();
      return folded;
    } catch (error) {
      await target.discard().catch(() => {});
      throw error;
    }
  }

  /**
   * Folds pages of the log after `from` into a window, committed with its checkpoint (the last
   * position folded) once it holds `windowRows` rows, at a stop and at the end: each commit is
   * exactly once, so a rebuild or catch-up cut short resumes where its last commit left it.
   */
  private async applyLog(
    from: number,
    { pages, pageSize, windowRows }: { pages: FoldPages; pageSize: number; windowRows: number },
    onProgress: (position: number) => void,
    shouldStop: () => boolean,
    /** Where to fold (a rebuild's new read models); `fresh`: they hold nothing yet. */
    { models, fresh }: { models: ReadModels; fresh: boolean } = { models: this.models, fresh: false },
  ): Promise<number> {
    // In empty read models nothing is stored until the first commit: that window loads no row.
    let window = new ReadModelWindow(fresh);
    let emailHashes: Array<Promise<ReadonlyMap<string, string>>> = [];
    let folded = from;
    let committed = from;
    const commit = async () => {
      const hashes = Promise.all(emailHashes).then((pages) => {
        const byEvent = new Map<string, string>();
        for (const page of pages) for (const [eventId, hash] of page) byEvent.set(eventId, hash);
        return byEvent;
      });
      // Awaited by the commit once its other rows are written; a failure meanwhile must not count as unhandled.
      hashes.catch(() => {});
      const record = await this.recordAt(folded);
      if (!record) throw new Error(`the log has no record at position ${folded}, just folded`);
      await models.commit(READ_MODELS, window, record, hashes);
      committed = folded;
    };
    for await (const page of pages(from, pageSize)) {
      // Awaited at the commit; a failure meanwhile must not count as unhandled.
      page.emailHashes.catch(() => {});
      emailHashes.push(page.emailHashes);
      await models.fold(window, page.events, page.emailEvents);
      folded = page.last;
      if (window.rows >= windowRows) {
        await commit();
        window = new ReadModelWindow();
        emailHashes = [];
      }
      onProgress(folded);
      if (shouldStop()) break;
    }
    if (folded !== committed) await commit();
    return folded;
  }

  /** What `serve` runs: catch up (in bulk from nothing), then follow live appends. */
  run(onError: (error: unknown) => void): { stop(): void } {
    let stopped = false;
    let live: Subscription | null = null;
    this.catchUp(
      () => {},
      () => stopped,
    ).then((position) => {
      if (stopped) return;
      this.failure = null; // caught up again after an outage
      live = this.follow(position, onError);
    }, this.failWith(onError));
    return {
      stop: () => {
        stopped = true;
        live?.unsubscribe();
      },
    };
  }

  /**
   * Follows the log after `from` (the checkpoint; catch-up included): a wake-up of the store
   * starts a pass, which folds everything appended since the last one in one window and commits
   * it, then rests (LIVE_REST). A pass that fails stops the runner (it never skips an event); the
   * lag then shows it.
   */
  follow(from: number, onError: (error: unknown) => void): Subscription {
    let position = from;
    return passesOnWakeUps(
      this.store.wakeUps,
      async (stopped) => {
        const started = performance.now();
        position = await this.applyLog(position, this.inThread, () => {}, stopped);
        const took = performance.now() - started;
        await sleep(Math.min(LIVE_REST.maxMs, Math.max(LIVE_REST.minMs, LIVE_REST.perPassMs * took)));
      },
      this.failWith(onError),
    );
  }

  /** Records why the runner stopped (for /health and /metrics), then reports the error. */
  private failWith(onError: (error: unknown) => void) {
    return (error: unknown) => {
      this.failure = error instanceof Error ? error.name : 'Error';
      onError(error);
    };
  }

  async lag(): Promise<ProjectionLag> {
    const head = await this.store.headPosition();
    const position = await this.models.checkpoint(READ_MODELS);
    return { position, head, lag: head - position, failed: this.failure, logMismatch: this.logMismatch };
  }
}
