import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker, type ResourceLimits } from 'node:worker_threads';

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
