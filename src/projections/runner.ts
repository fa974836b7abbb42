import { bufferTime, concatMap, filter, type Subscription } from 'rxjs';
import type { StoredEvent } from '../store/event-store.js';
import { pagesAfter, yieldToEventLoop } from '../store/pages.js';
import type { EventStore } from '../store/event-store.js';
import type { ReadModels } from './read-models.js';

/** Events per transaction of a rebuild. */
const REBUILD_PAGE = 5000;

/** The name the read models' checkpoint is kept under. */
export const READ_MODELS = 'read-models';

/** Blind-index hashes of the e-mails a batch sets, by event id (opening seals is I/O). */
export type EmailHashes = (events: readonly StoredEvent[]) => Promise<ReadonlyMap<string, string>>;

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
  private failure: string | null = null;

  constructor(
    private readonly store: EventStore,
    private readonly models: ReadModels,
    options: { emailHashes?: EmailHashes; batchSize?: number } = {},
  ) {
    this.emailHashes = options.emailHashes ?? (async () => new Map());
    this.batchSize = options.batchSize ?? 1000;
  }

  /** Applies a batch with its e-mail hashes; the checkpoint defaults to the batch's last position. */
  private async apply(batch: readonly StoredEvent[], checkpoint?: number): Promise<void> {
    await this.models.applyBatch(READ_MODELS, batch, await this.emailHashes(batch), checkpoint);
  }

  /**
   * Reads and applies batches from the checkpoint up to the head (or until `shouldStop`);
   * returns the position reached.
   */
  async catchUp(onBatch: (position: number) => void = () => {}, shouldStop: () => boolean = () => false): Promise<number> {
    // From nothing (a fresh or upgraded state.db), a stream-ordered rebuild is several times faster.
    const from = await this.models.checkpoint(READ_MODELS);
    if (from === 0 && this.store.readAllByStream && (await this.store.headPosition()) > REBUILD_PAGE) {
      return this.rebuild(onBatch, shouldStop);
    }
    for await (const page of pagesAfter((after, limit) => this.store.readAll({ after, limit }), from, this.batchSize)) {
      await this.apply(page);
      onBatch(page.at(-1)!.position);
      if (shouldStop()) break;
    }
    return await this.models.checkpoint(READ_MODELS);
  }

  /**
   * Recreates every read model from the log, exactly. The log up to the current head is read
   * stream by stream, so each contact's rows are written about once instead of once per batch
   * that touches them; the checkpoint stays at 0 until that pass is complete (re-applying events
   * converges, so a rebuild cut short is finished by the next catch-up or rebuild), then the
   * events appended meanwhile are caught up in log order.
   */
  async rebuild(onProgress: (events: number) => void = () => {}, shouldStop: () => boolean = () => false): Promise<number> {
    const upTo = await this.store.headPosition();
    await this.models.reset();
    const readAllByStream = this.store.readAllByStream?.bind(this.store);
    if (!readAllByStream) return this.catchUp(onProgress, shouldStop);
    let events = 0;
    // The next page is read while this one is applied: on a database server the two overlap.
    let next = readAllByStream({ upTo, after: null, limit: REBUILD_PAGE });
    for (;;) {
      if (shouldStop()) {
        next.catch(() => {}); // the read ahead is abandoned
        return 0;
      }
      const page = await next;
      if (page.length === 0) break;
      const last = page.at(-1)!;
      next = readAllByStream({ upTo, after: { stream: last.stream, revision: last.revision }, limit: REBUILD_PAGE });
      await this.apply(page, 0);
      await yieldToEventLoop();
      onProgress((events += page.length));
    }
    await this.models.applyBatch(READ_MODELS, [], new Map(), upTo);
    return this.catchUp(onProgress, shouldStop);
  }

  /** What `serve` runs: catch up (in bulk from nothing), then follow live appends. */
  run(onError: (error: unknown) => void): { stop(): void } {
    let stopped = false;
    let live: Subscription | null = null;
    this.catchUp(() => {}, () => stopped).then((position) => {
      if (!stopped) live = this.follow(position, onError);
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
