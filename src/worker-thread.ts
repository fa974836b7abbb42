import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker, type ResourceLimits } from 'node:worker_threads';

/**
 * Starts a worker thread on a module of this project, given as its path without extension beside
 * `from` (an import.meta.url): the `.js` file once built; the `.ts` file when run from source
 * (tests, `npm run ledger`), where the thread needs tsx's loader registered first.
 */
export function startWorker(
  from: string,
  module: string,
  workerData: unknown,
  resourceLimits?: ResourceLimits,
): Worker {
  const fromSource = from.endsWith('.ts');
  const url = new URL(`${module}${fromSource ? '.ts' : '.js'}`, from);
  if (!fromSource) return new Worker(url, { workerData, resourceLimits });
  // tsx's ESM API ("tsx/esm/api", import condition), found from its package.json: under a test
  // runner this module may itself run as CommonJS, without import.meta.resolve.
  const tsxPackage = createRequire(from).resolve('tsx/package.json');
  const tsx = pathToFileURL(join(dirname(tsxPackage), 'dist/esm/api/index.mjs')).href;
  const bootstrap = `import(${JSON.stringify(tsx)}).then((api) => { api.register(); return import(${JSON.stringify(url.href)}); })`;
  return new Worker(bootstrap, { eval: true, workerData, resourceLimits });
}

/** What a thread threw, as an Error: an error of a class of its own arrives as a plain object. */
export function threadError(error: unknown, thread: string): Error {
  if (error instanceof Error) return error;
  const { message, code } = (error ?? {}) as { message?: unknown; code?: unknown };
  return new Error(`${thread} failed: ${String(message ?? code ?? error)}`, { cause: error });
}
