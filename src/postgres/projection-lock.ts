import type pg from 'pg';
import { LedgerClient } from './database.js';

/**
 * One active projection runner per projection across API nodes: a PostgreSQL session advisory
 * lock, held on a connection of its own for as long as the runner runs. The other nodes stand by,
 * trying again every `retryMs`; if the holder's connection drops, PostgreSQL releases the lock,
 * the holder stops its runner, and a stand-by takes over from the checkpoint. An idle connection
 * that stalls (a frozen network) would tell the holder nothing while the server may end its session
 * and hand the lock to a stand-by: so the holder asks the server every `heartbeatMs`, and an answer
 * that does not come within the connection's query time-out counts as the lock lost.
 */
export class ProjectionLock {
  private client: LedgerClient | null = null;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(
    /** A connection string, or connectionOptions: a stalled database must fail an attempt, not hang it. */
    private readonly connection: string | pg.ClientConfig,
    private readonly name: string,
    private readonly retryMs = 2000,
    private readonly heartbeatMs = 5000,
  ) {}

  /** Tries once; true when this process now holds the lock. */
  async tryAcquire(onLost: () => void): Promise<boolean> {
    const client = new LedgerClient(this.connection);
    client.on('error', () => {});
    await client.connect();
    const {
      rows: [row],
    } = await client.query<{ held: boolean }>('SELECT pg_try_advisory_lock(hashtext($1)) AS held', [
      `contact-ledger:${this.name}`,
    ]);
    if (!row?.held) {
      await client.end();
      return false;
    }
    this.client = client;
    let heartbeat: NodeJS.Timeout | undefined;
    const lost = () => {
      clearTimeout(heartbeat);
      if (this.client !== client || this.stopped) return;
      this.client = null;
      onLost();
      // A stalled socket may never close: the runner is stopped first, the connection let go after.
      void client.end().catch(() => {});
    };
    // One question at a time: the next is asked once the last was answered.
    const beat = () => {
      heartbeat = setTimeout(() => client.query('SELECT 1').then(beat, lost), this.heartbeatMs);
      heartbeat.unref();
    };
    beat();
    client.once('end', lost);
    return true;
  }

  /** Runs `start` whenever this process holds the lock; the returned stop of `start` runs when it is lost. */
  hold(start: () => { stop(): void }, onError: (error: unknown) => void): { stop(): void } {
    let running: { stop(): void } | null = null;
    const attempt = () => {
      if (this.stopped) return;
      this.tryAcquire(() => {
        running?.stop();
        running = null;
        this.timer = setTimeout(attempt, this.retryMs);
      }).then(
        (held) => {
          if (held && !this.stopped) running = start();
          else if (!this.stopped) this.timer = setTimeout(attempt, this.retryMs);
        },
        (error: unknown) => {
          onError(error);
          if (!this.stopped) this.timer = setTimeout(attempt, this.retryMs);
        },
      );
    };
    attempt();
    return {
      stop: () => {
        this.stopped = true;
        if (this.timer) clearTimeout(this.timer);
        running?.stop();
        void this.client?.end().catch(() => {});
      },
    };
  }
}
