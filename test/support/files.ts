import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Every file of a data directory whose bytes contain one of the needles (UTF-8). */
export function filesContaining(
  dir: string,
  needles: readonly string[],
  skip: (name: string) => boolean = () => false,
) {
  const hits: Array<{ file: string; needle: string }> = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (skip(name) || !statSync(path).isFile()) continue;
    const bytes = readFileSync(path);
    for (const needle of needles) if (bytes.includes(Buffer.from(needle, 'utf8'))) hits.push({ file: name, needle });
  }
  return hits;
}
