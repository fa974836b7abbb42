import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parentPort, Worker, type ResourceLimits } from 'node:worker_threads';
import { fromWire, toWire, type WireError } from './domain/wire-errors.js';

/**
 * Starts a worker thread on a module of this project, given as its path without extension beside
 * `from` (an import.meta.url): the `.js` file once built; the `.ts` file when run from source
 * (tests, `npm run ledger`). Node 20 does not run `--import tsx` in a worker, so a worker from
 * source first registers tsx's loader through its public API (`tsx/esm/api`).
 */
export function startWorker(
  from: string,
  module: string,
  workerData: unknown,
  resourceLimits?: ResourceLimits,
): Worker {
  const options = { workerData, ...(resourceLimits ? { resourceLimits } : {}) };
  if (!from.endsWith('.ts')) return new Worker(new URL(`${module}.js`, from), options);
  const url = new URL(`${module}.ts`, from).href;
  const tsx = pathToFileURL(tsxEsmApi(from)).href;
  const bootstrap = `import(${JSON.stringify(tsx)})
    .then((api) => { api.register(); return import(${JSON.stringify(url)}); })`;
  return new Worker(bootstrap, { ...options, eval: true });
}

/**
 * The file of tsx's public `tsx/esm/api` export for `import`, read from its package's export map:
 * under a test runner this module may run as CommonJS, without import.meta.resolve, and
 * require.resolve would pick the `require` build, whose register() cannot run from ESM.
 */
function tsxEsmApi(from: string): string {
  const packageJson = createRequire(from).resolve('tsx/package.json');
  const { exports } = JSON.parse(readFileSync(packageJson, 'utf8')) as {
    exports: Record<string, { import: { default: string } }>;
  };
  return join(dirname(packageJson), exports['./esm/api']!.import.default);
}

/** What a thread threw, as an Error: an error of a class of its own arrives as a plain object. */
export function threadError(error: unknown, thread: string): Error {
  if (error instanceof Error) return error;
  const { message, code } = (error ?? {}) as { message?: unknown; code?: unknown };
  return new Error(`${thread} failed: ${String(message ?? code ?? error)}`, { cause: error });
}

/** A call to a thread that serves calls (serveCalls), or the request to close. */
export type ThreadCall<C> = { id: number; call: C } | { close: true };
export type ThreadReply<R> = { id: number; value: R } | { id: number; error: WireError };

/**
 * The client side of a thread that serves calls: each call is posted at once and settled by its
 * reply. The thread is started on the first call; it keeps the process alive only while a call
 * waits. A thread that dies fails its calls, never silently drops them, and the next call starts
 * another.
 */
export class CallThread<C, R> {
  private worker: Worker | null = null;
  private readonly waiting = new Map<number, { resolve: (value: R) => void; reject: (error: unknown) => void }>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private lastId = 0;

  /** `start` starts the thread; `name` names it in errors ("the keys.db writer thread"). */
  constructor(
    private readonly start: () => Worker,
    private readonly name: string,
  ) {}

  call(input: C): Promise<R> {
    const worker = (this.worker ??= this.started());
    const id = ++this.lastId;
    const settled = new Promise<R>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      worker.ref();
      try {
        worker.postMessage({ id, call: input } satisfies ThreadCall<C>);
      } catch (error) {
        this.settled(worker, id)?.reject(error); // not cloneable: refused here, never sent
      }
    });
    const tracked = settled.catch(() => {}).finally(() => this.inFlight.delete(tracked));
    this.inFlight.add(tracked);
    return settled;
  }

  /** Waits for the calls in flight, then lets the thread close what it holds and exit. */
  async close(): Promise<void> {
    await Promise.all(this.inFlight);
    const worker = this.worker;
    if (!worker) return;
    this.worker = null;
    const exited = new Promise((resolve) => worker.once('exit', resolve));
    worker.ref(); // until it has closed its connection and exited
    worker.postMessage({ close: true } satisfies ThreadCall<C>);
    await exited;
  }

  private settled(worker: Worker, id: number) {
    const call = this.waiting.get(id);
    this.waiting.delete(id);
    if (this.waiting.size === 0) worker.unref();
    return call;
  }

  private started(): Worker {
    const worker = this.start();
    worker.unref();
    worker.on('message', (reply: ThreadReply<R>) => {
      const call = this.settled(worker, reply.id);
      if ('value' in reply) call?.resolve(reply.value);
      else call?.reject(fromWire(reply.error));
    });
    const fail = (error: Error) => {
      if (this.worker === worker) this.worker = null;
      for (const call of this.waiting.values()) call.reject(error);
      this.waiting.clear();
    };
    worker.on('error', (error: unknown) => fail(threadError(error, this.name)));
    worker.on('exit', () => fail(new Error(`${this.name} stopped`)));
    return worker;
  }
}

/**
 * The thread side of a CallThread: answers each call with `handle`'s value or error (in the order
 * they settle), and on close runs `close` and lets the thread exit.
 */
export function serveCalls<C, R>(handle: (call: C) => Promise<R>, close: () => void): void {
  const port = parentPort!;
  const reply = (message: ThreadReply<R>) => port.postMessage(message);
  port.on('message', (message: ThreadCall<C>) => {
    if ('close' in message) {
      close();
      port.close();
      return;
    }
    handle(message.call).then(
      (value) => reply({ id: message.id, value }),
      (error: unknown) => reply({ id: message.id, error: toWire(error) }),
    );
  });
}
