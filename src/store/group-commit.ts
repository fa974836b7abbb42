export type Settled<R> = { ok: true; value: R } | { ok: false; error: unknown };

/**
 * Group commit: calls submitted while the previous group commits (or during one turn of the event
 * loop) are committed together by one `commit` (one transaction, one fsync), each still succeeding
 * or failing on its own. One group is in flight at a time. This is how the stores get throughput
 * without weakening durability (DESIGN.md principle 6).
 */
export class GroupCommit<T, R> {
  private pending: Array<{ item: T; resolve: (value: R) => void; reject: (error: unknown) => void }> = [];
  private scheduled = false;
  private committing = false;

  /** `commit` gets every item of the group and returns one settlement per item, in order. */
  constructor(private readonly commit: (items: T[]) => Settled<R>[] | Promise<Settled<R>[]>) {}

  submit(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.committing || this.pending.length === 0) return;
    this.scheduled = true;
    setImmediate(() => void this.flush());
  }

  private async flush(): Promise<void> {
    this.scheduled = false;
    this.committing = true;
    const group = this.pending;
    this.pending = [];
    try {
      const settled = await this.commit(group.map((call) => call.item));
      group.forEach((call, i) => {
        const outcome = settled[i]!;
        if (outcome.ok) call.resolve(outcome.value);
        else call.reject(outcome.error);
      });
    } catch (error) {
      for (const call of group) call.reject(error);
    } finally {
      this.committing = false;
      this.schedule();
    }
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
