import { bufferTime, concatMap, filter, type Subscription } from 'rxjs';
import type { EventFact, EventStore } from '../store/event-store.js';
import { pagesAfter } from '../store/pages.js';
import type { ReadModels } from './read-models.js';
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
 * Rows (contacts, consents, orders) a bulk window holds before it is committed: bounds the
 * memory of a rebuild whatever the size of the log, while each contact's row is still loaded
 * and written about once per window instead of once per page.
 */
const BULK_WINDOW_ROWS = 400_000;

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
}

/**
 * Keeps the read models up to date: catches up from the checkpoint in batches, then follows
 * live appends, committing each batch with its checkpoint in one read-model transaction, so a
 * stop anywhere loses and repeats nothing.
 */
export class ProjectionRunner {
  private readonly emailHashes: EmailHashes;
  private readonly batchSize: number;
  private readonly bulkWindowRows: number;
  private readonly pages: FoldPages;
  private readonly bulkPages: FoldPages;
  private failure: string | null = null;

  constructor(
    private readonly store: EventStore,
    private readonly models: ReadModels,
    options: {
      emailHashes?: EmailHashes;
      batchSize?: number;
      bulkWindowRows?: number;
      /** Where the pages of a long backlog come from (default: this thread). */
      bulkPages?: FoldPages;
    } = {},
  ) {
    this.emailHashes = options.emailHashes ?? (async () => new Map());
    this.batchSize = options.batchSize ?? 1000;
    this.bulkWindowRows = options.bulkWindowRows ?? BULK_WINDOW_ROWS;
    this.pages = pagesInThread(store, this.emailHashes);
    this.bulkPages = options.bulkPages ?? this.pages;
  }

  /** Applies a batch with its e-mail hashes, moving the checkpoint to its last position. */
  private async apply(batch: readonly EventFact[]): Promise<void> {
    await this.models.applyBatch(READ_MODELS, batch, await this.emailHashes(batch));
  }

  /**
   * Reads and applies the log from the checkpoint up to the head (or until `shouldStop`);
   * returns the position reached. A long backlog is folded in bulk windows.
   */
  async catchUp(
    onProgress: (position: number) => void = () => {},
    shouldStop: () => boolean = () => false,
  ): Promise<number> {
    const from = await this.models.checkpoint(READ_MODELS);
    const bulk = (await this.store.headPosition()) - from > BULK_BACKLOG;
    const mode = bulk
      ? { pages: this.bulkPages, pageSize: BULK_PAGE, windowRows: this.bulkWindowRows }
      : { pages: this.pages, pageSize: this.batchSize, windowRows: 0 };
    return this.applyLog(from, mode, onProgress, shouldStop);
  }

  /** Recreates every read model from the log, exactly: empties them, then folds the log in bulk windows. */
  async rebuild(
    onProgress: (position: number) => void = () => {},
    shouldStop: () => boolean = () => false,
  ): Promise<number> {
    const pages = (await this.store.headPosition()) > BULK_BACKLOG ? this.bulkPages : this.pages;
    await this.models.reset();
    return this.applyLog(
      0,
      { pages, pageSize: BULK_PAGE, windowRows: this.bulkWindowRows },
      onProgress,
      shouldStop,
      true,
    );
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
    fresh = false,
  ): Promise<number> {
    // After a reset nothing is stored until the first commit: that window loads no row.
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
      await this.models.commit(READ_MODELS, window, (committed = folded), hashes);
    };
    for await (const page of pages(from, pageSize)) {
      // Awaited at the commit; a failure meanwhile must not count as unhandled.
      page.emailHashes.catch(() => {});
      emailHashes.push(page.emailHashes);
      await this.models.fold(window, page.events, page.emailEvents);
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
   * Follows the log after `from` (the checkpoint; catch-up included), batching what arrives within 50 ms.
   * A batch that fails stops the runner (it never skips a batch); the lag then shows it.
   */
  follow(from: number, onError: (error: unknown) => void): Subscription {
    return this.store
      .subscribe({ after: from })
      .pipe(
        bufferTime(50, null, this.batchSize),
        filter((batch) => batch.length > 0),
        concatMap((batch) => this.apply(batch)),
      )
      .subscribe({ error: this.failWith(onError) });
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
    return { position, head, lag: head - position, failed: this.failure };
  }
}
