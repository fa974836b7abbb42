import { readFileSync } from 'node:fs';

/** The version of this package (`ledger --version`, the API document), read from src/ and from dist/ alike. */
export const packageVersion = (): string =>
  (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
