import { CallThread, startWorker } from '../worker-thread.js';
import type { AppendOutcome, EventToAppend } from './event-store.js';

/** What the writer thread is started with. */
export interface WriterInput {
  path: string;
  /** EventIndexes.fences: the reading store created their index. */
  fences: readonly string[];
}

/**
 * The client of the events.db writer thread (sqlite-writer-worker.ts). Each call is posted as soon
 * as it is sealed, and the thread commits whatever arrived while it was busy as one group: the
 * sealing of the next calls (this thread) overlaps the insert and fsync of the previous ones
 * (that thread), so appends use both cores. A thread that dies fails its calls (one may have
 * committed just before: its retry is then reported as duplicates, by event id).
 */
export class WriterThread {
  private readonly thread: CallThread<readonly EventToAppend[], AppendOutcome>;

  constructor(
    input: WriterInput,
    private readonly onAppended: () => void,
  ) {
    this.thread = new CallThread(
      () => startWorker(import.meta.url, './sqlite-writer-worker', input satisfies WriterInput),
      'the events.db writer thread',
    );
  }

  async append(events: readonly EventToAppend[]): Promise<AppendOutcome> {
    const outcome = await this.thread.call(events);
    if (outcome.appended.length > 0) this.onAppended();
    return outcome;
  }

  /** Waits for the calls in flight, then closes the thread's connection. */
  close(): Promise<void> {
    return this.thread.close();
  }
}
