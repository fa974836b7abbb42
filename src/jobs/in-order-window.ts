/**
 * The messages of one subscriber in flight (issue 27: "in log order per contact"): up to `limit`
 * at once, those of one key (a contact) one after the other in the order added, never two at
 * once; and the position up to which every message added is settled, the only one a checkpoint
 * may take (at least once: a crash sends again what followed it, never skips one).
 */
export class InOrderWindow {
  /** The last task of each key: the next one of that key starts when it has ended. */
  private readonly tails = new Map<string, Promise<void>>();
  private readonly outstanding = new Set<Promise<void>>();
  /**
   * The positions added and not yet passed by the checkpoint, in log order; consecutive settled
   * ones merged into one entry, so it holds at most twice the messages outstanding.
   */
  private readonly queue: Array<{ position: number; settled: boolean }> = [];
  private settledUpTo: number;
  /** Wakes the one `add` waiting for room (one waiter, not a race over every task: that costs O(limit) each). */
  private wake: (() => void) | null = null;

  constructor(
    after: number,
    private readonly limit: number,
  ) {
    this.settledUpTo = after;
  }

  /** The position up to which every message added is settled (delivered, or given up on). */
  get checkpoint(): number {
    return this.settledUpTo;
  }

  /** An event with nothing to send: settled as soon as all before it are. */
  skip(position: number): void {
    this.push({ position, settled: true });
  }

  /**
   * Starts `task` once the one before it of the same key has ended, waiting first while `limit`
   * are outstanding (one caller at a time: the drain adds in log order). `task` says whether its
   * message is settled; false (stopped, the receiver not given up on) holds the checkpoint before
   * it for good.
   */
  async add(key: string, position: number, task: () => Promise<boolean>): Promise<void> {
    while (this.outstanding.size >= this.limit) await new Promise<void>((resolve) => (this.wake = resolve));
    const entry = { position, settled: false };
    this.push(entry);
    const run = (this.tails.get(key) ?? Promise.resolve()).then(async () => {
      if (await task()) {
        entry.settled = true;
        this.advance();
      }
    });
    this.tails.set(key, run);
    this.outstanding.add(run);
    const ended = () => {
      this.outstanding.delete(run);
      if (this.tails.get(key) === run) this.tails.delete(key);
      this.wake?.();
      this.wake = null;
    };
    run.then(ended, ended);
  }

  /** Every message added has ended; its task's failure, if one threw. */
  async drained(): Promise<void> {
    await Promise.all(this.outstanding);
  }

  private push(entry: { position: number; settled: boolean }): void {
    const last = this.queue.at(-1);
    if (entry.settled && last?.settled) last.position = entry.position;
    else this.queue.push(entry);
    this.advance();
  }

  private advance(): void {
    while (this.queue[0]?.settled) this.settledUpTo = this.queue.shift()!.position;
  }
}
