import type { ReadModels } from '../projections/read-models.js';
import type { ProjectionRunner } from '../projections/runner.js';
import {
  CHECKPOINT_RECORDS,
  CHECKPOINTS,
  READ_MODEL_TABLES,
  VERIFICATIONS,
  type Row,
  type Table,
} from '../projections/tables.js';
import { isDeepStrictEqual } from 'node:util';

/** One read-model row that is not what the log folded again gives: its table, its key, what differs. */
export interface ProjectionDifference {
  table: string;
  key: Record<string, unknown>;
  /** `missing`: the log gives the row, the read models lack it; `unexpected`: the reverse. */
  kind: 'missing' | 'unexpected' | 'differs';
  columns?: string[];
}

export interface ProjectionsVerification {
  ok: boolean;
  /** The log position both were folded to. */
  position: number;
  rows: number;
  differences: number;
  /** The first differences (at most 100): ids, codes and column names only, never personal data. */
  first: ProjectionDifference[];
}

const SHOWN = 100;
const COMPARED = READ_MODEL_TABLES.filter(
  (table) => table !== CHECKPOINTS && table !== CHECKPOINT_RECORDS && table !== VERIFICATIONS,
);

/**
 * `ledger projections verify`: folds the log again into scratch read models, up to the position
 * the ledger's own have reached, and compares every row, table by table in key order. An edited
 * or corrupted read model (a recency date, a status, a legal-hold flag) is named by table and
 * key. The result is recorded, for /health.
 */
export async function verifyProjections(
  ledger: { readModels: ReadModels; runner: ProjectionRunner; now(): Date },
  scratch: { readModels: ReadModels; runner: ProjectionRunner },
  onProgress: (stage: string) => void = () => {},
): Promise<ProjectionsVerification> {
  // Both at the same position: the log may grow meanwhile, so whichever is behind catches up.
  let position = await ledger.runner.catchUp();
  onProgress('folding the log again');
  let again = await scratch.runner.rebuild();
  for (let tries = 0; again !== position && tries < 5; tries++) {
    if (again < position) again = await scratch.runner.catchUp();
    else position = await ledger.runner.catchUp();
  }
  onProgress('comparing');
  const first: ProjectionDifference[] = [];
  let differences = 0;
  let rows = 0;
  for (const table of COMPARED) {
    for await (const difference of compareTable(table, ledger.readModels, scratch.readModels)) {
      if (difference === null) rows++;
      else if (differences++ < SHOWN) first.push(difference);
    }
  }
  await ledger.readModels.recordVerification(position, differences, ledger.now());
  return { ok: differences === 0, position, rows, differences, first };
}

/** Walks both tables in key order at once: yields each difference, and null for each row that matches. */
async function* compareTable<T extends Table>(
  table: T,
  stored: ReadModels,
  folded: ReadModels,
): AsyncGenerator<ProjectionDifference | null> {
  const keyOf = (row: Row<T>) => Object.fromEntries(table.key.map((c) => [c, row[c as keyof Row<T>]]));
  const compareKeys = (a: Row<T>, b: Row<T>) => {
    for (const column of table.key) {
      const [x, y] = [a[column as keyof Row<T>], b[column as keyof Row<T>]] as Array<string | number>;
      if (x !== y) return x! < y! ? -1 : 1;
    }
    return 0;
  };
  const left = rowsOf(stored.rowsInKeyOrder(table));
  const right = rowsOf(folded.rowsInKeyOrder(table));
  let [mine, theirs] = [await left.next(), await right.next()];
  while (!mine.done || !theirs.done) {
    const order = mine.done ? 1 : theirs.done ? -1 : compareKeys(mine.value, theirs.value);
    if (order < 0) {
      yield { table: table.name, key: keyOf(mine.value!), kind: 'unexpected' };
      mine = await left.next();
    } else if (order > 0) {
      yield { table: table.name, key: keyOf(theirs.value!), kind: 'missing' };
      theirs = await right.next();
    } else {
      const columns = Object.keys(table.columns).filter(
        (c) => !isDeepStrictEqual(mine.value![c as keyof Row<T>], theirs.value![c as keyof Row<T>]),
      );
      yield columns.length === 0 ? null : { table: table.name, key: keyOf(mine.value!), kind: 'differs', columns };
      [mine, theirs] = [await left.next(), await right.next()];
    }
  }
}

async function* rowsOf<R>(pages: AsyncGenerator<R[]>): AsyncGenerator<R> {
  for await (const page of pages) yield* page;
}
