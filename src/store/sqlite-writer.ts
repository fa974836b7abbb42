import type { Worker } from 'node:worker_threads';
import { fromWire, type WireError } from '../domain/wire-errors.js';
import { startWorker, threadError } from '../worker-thread.js';
import type { AppendOutcome, EventToAppend } from './event-store.js';

/** What the writer thread is started with. */
export interface WriterInput {
  path: string;
  indexedTypes: readonly string[];
}

export type WriterCall = { id: number; events: readonly EventToAppend[] } | { close: true };
export type WriterReply = { id: number; outcome: AppendOutcome } | { id: number; error: WireError };

/**
 * The client of the events.db writer thread (sqlite-writer-worker.ts). Each call is posted as soon
 * as it is sealed, and the thread commits whatever arrived while it was busy as one group: the
 * sealing of the next calls (this thread) overlaps the insert and fsync of the previous ones
 * (that thread), so appends use both cores. Started on the first append.
 */
export class WriterThread {
  private worker: Worker | null = null;
  private readonly waiting = new Map<
    number,
    { resolve: (outcome: AppendOutcome) => void; reject: (error: unknown) => void }
  >();
  private readonly inFlight = new Set<Promise<unknown>>();
  private lastId = 0;

  constructor(
    private readonly input: WriterInput,
    private readonly onAppended: () => void,
  ) {}

  append(events: readonly EventToAppend[]): Promise<AppendOutcome> {
    const worker = (this.worker ??= this.start());
    const id = ++this.lastId;
    const settled = new Promise<AppendOutcome>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      worker.ref(); // a call in flight keeps the process alive; an idle writer does not
      try {
        worker.postMessage({ id, events } satisfies WriterCall);
      } catch (error) {
        this.settled(worker, id)?.reject(error); // not cloneable: refused here, never sent
      }
    });
    const tracked = settled.catch(() => {}).finally(() => this.inFlight.delete(tracked));
    this.inFlight.add(tracked);
    return settled;
  }

  /** Waits for the calls in flight, then closes the thread's connection. */
  async close(): Promise<void> {
    await Promise.all(this.inFlight);
    const worker = this.worker;
    if (!worker) return;
    this.worker = null;
    const exited = new Promise((resolve) => worker.once('exit', resolve));
    worker.ref(); // until it has closed its connection and exited
    worker.postMessage({ close: true } satisfies WriterCall);
    await exited;
  }

  /** Takes a call off the waiting list; the thread no longer keeps the process alive once none waits. */
  private settled(worker: Worker, id: number) {
    const call = this.waiting.get(id);
    this.waiting.delete(id);
    if (this.waiting.size === 0) worker.unref();
    return call;
  }

  private start(): Worker {
    const worker = startWorker(import.meta.url, './sqlite-writer-worker', this.input satisfies WriterInput);
    worker.unref();
    worker.on('message', (reply: WriterReply) => {
      const call = this.settled(worker, reply.id);
      if ('outcome' in reply) {
        if (reply.outcome.appended.length > 0) this.onAppended();
        call?.resolve(reply.outcome);
      } else call?.reject(fromWire(reply.error));
    });
    // A thread that dies fails its calls, never silently drops them (one may have committed just
    // before: its retry is then reported as duplicates, by event id); the next append starts another.
    const fail = (error: Error) => {
      if (this.worker === worker) this.worker = null;
      for (const call of this.waiting.values()) call.reject(error);
      this.waiting.clear();
    };
    worker.on('error', (error: unknown) => fail(threadError(error, 'the events.db writer thread')));
    worker.on('exit', () => fail(new Error('the events.db writer thread stopped')));
    return worker;
  }
}
