export type Settled<R> = { ok: true; value: R } | { ok: false; error: unknown };

/**
 * Group commit: calls submitted during one turn of the event loop are committed together by one
 * `commit` (one transaction, one fsync), each still succeeding or failing on its own. This is how
 * the embedded store gets throughput without weakening durability (DESIGN.md principle 6).
 */
export class GroupCommit<T, R> {
  private pending: Array<{ item: T; resolve: (value: R) => void; reject: (error: unknown) => void }> = [];
  private scheduled = false;

  /** `commit` gets every item of the group and returns one settlement per item, in order. */
  constructor(private readonly commit: (items: T[]) => Settled<R>[]) {}

  submit(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const group = this.pending;
    this.pending = [];
    let settled: Settled<R>[];
    try {
      settled = this.commit(group.map((call) => call.item));
    } catch (error) {
      for (const call of group) call.reject(error);
      return;
    }
    group.forEach((call, i) => {
      const outcome = settled[i]!;
      if (outcome.ok) call.resolve(outcome.value);
      else call.reject(outcome.error);
    });
  }
}

/** Runs `work`, capturing its result or error as a settlement. */
export function settle<R>(work: () => R): Settled<R> {
  try {
    return { ok: true, value: work() };
  } catch (error) {
    return { ok: false, error };
  }
}
