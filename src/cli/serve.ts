import type { Server } from 'node:http';
import type { Express } from 'express';
import type { LedgerConfig } from '../config.js';
import { createLogger } from '../log.js';
import { openLedger } from '../app/open-ledger.js';
import { createApp } from '../api/app.js';
import { issueFirstAdminKey } from '../app/issue-api-key.js';
import { ConcurrencyConflict } from '../domain/errors.js';
import { restartOnOutage } from '../store/restart-on-outage.js';
import { recordCheckpoint } from '../app/audit-checkpoint.js';
import { ScheduleRunner } from '../jobs/schedules.js';
import { DeliveryRunner } from '../jobs/delivery.js';

/**
 * Runs the API, the projection runner, the shredder reaction, the scheduled jobs and the delivery to
 * subscribers until SIGINT/SIGTERM, then closes cleanly.
 */
export async function serve(config: LedgerConfig): Promise<Server> {
  const log = createLogger(config.logLevel);
  const opened = await openLedger(config, log);
  // Read models folded from another log (events.db restored from a backup), or keyed by another
  // master key: rebuilt by the runner's first catch-up, or refused here, before anything is served.
  const mismatch = await opened.runner.checkAgainstLog().catch(async (error: unknown) => {
    await opened.close();
    throw error;
  });
  if (mismatch) {
    const why =
      mismatch.reason === 'otherMasterKey'
        ? 'the read models are keyed by another master key (a rotation)'
        : 'the read models were folded from another log (a restore?)';
    log.warn(mismatch, `${why}: rebuilding them`);
  }
  const firstKey = await issueFirstAdminKey(opened).catch((error: unknown) => {
    if (error instanceof ConcurrencyConflict) return null; // another node issued it first
    throw error;
  });
  // Printed once, on stdout, never logged: the ledger keeps only its hash.
  if (firstKey) {
    process.stdout.write(
      `First start of this ledger: an admin API key, shown this once (keep it; ledger keys create makes others):\n` +
        `${firstKey.token}\n`,
    );
  }
  const app = createApp(opened, log, {
    maxBodyBytes: config.maxBodyBytes,
    allowedHosts: config.allowedHosts,
    textGuard: config.textGuard,
    trustProxy: config.trustProxy,
    publicUrl: config.publicUrl,
    institution: config.institution,
  });
  // Bound before any job runs: a port already taken (another ledger still serving it, which a
  // restore drill's checks would reach) ends the start here. The first admin key comes before:
  // whoever waits for /health finds it printed.
  const server = await listening(app, config).catch(async (error: unknown) => {
    await opened.close();
    throw error;
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  log.info({ host: config.host, port, dataDir: config.dataDir, store: config.store }, 'ledger listening');
  const logFailure = (what: string) => (error: unknown) =>
    log.error({ err: { name: (error as Error).name, message: (error as Error).message } }, what);
  // Both follow the log: a lost database stops them, and they start again once it is back.
  let restarts = 0;
  const followForgettings = (onError: (error: unknown) => void) => {
    let subscription: { unsubscribe(): void } | null = null;
    let stopped = false;
    // The head first, then the pass: a forgetting appended meanwhile is followed or already shredded.
    // The first start needs no pass: opening the ledger just ran it.
    const afterOutage = restarts++ > 0;
    opened.store
      .headPosition()
      .then(async (head) => {
        if (afterOutage) await opened.shredder.reconcile();
        if (!stopped) subscription = opened.shredder.follow(head, onError);
      })
      .catch(onError);
    return {
      stop: () => {
        stopped = true;
        subscription?.unsubscribe();
      },
    };
  };
  const reaction = restartOnOutage(followForgettings, logFailure('shredder reaction failed'));
  const runProjections = () =>
    restartOnOutage((onError) => opened.runner.run(onError), logFailure('projection runner stopped'));
  // On a shared database, one node runs the projections; the others stand by (docs/multi-machine.md).
  const projections = opened.runProjectionsExclusively(runProjections, logFailure('projection lock'));
  // Every node follows the schedules; one runs each occurrence (README "Scheduled runs").
  const schedules = new ScheduleRunner(opened, {
    exclusively: opened.runOccurrenceExclusively,
    onError: (error, job) => logFailure(`scheduled job ${job} failed`)(error),
    onRun: (job, occurrence, summary) => log.info({ job, occurrence, ...summary }, 'scheduled run recorded'),
  }).start();
  // Each subscriber (webhook, NATS) hears the log from its checkpoint (README "Subscribers"); no url nor secret logged.
  // On a shared database one node delivers, the others stand by: a receiver is not sent each message by every node.
  let deliveryStopped: Promise<void> = Promise.resolve();
  const delivery = opened.runDeliveryExclusively(() => {
    const runner = new DeliveryRunner(opened, {
      ...(config.deliveryAttempts !== undefined ? { maxAttempts: config.deliveryAttempts } : {}),
      ...(config.deliveryBackoffMs !== undefined ? { baseDelayMs: config.deliveryBackoffMs } : {}),
      ...(config.deliveryMaxBackoffMs !== undefined ? { maxDelayMs: config.deliveryMaxBackoffMs } : {}),
      ...(config.deliveryInFlight !== undefined ? { inFlight: config.deliveryInFlight } : {}),
      ...(config.natsInFlight !== undefined ? { natsInFlight: config.natsInFlight } : {}),
      natsUrl: config.natsUrl,
      natsStream: config.natsStream,
      onError: (error, subscriber) => logFailure(`delivery to subscriber ${subscriber} failed`)(error),
      onDeadLetter: ({ name, eventId, position, attempts, error }) =>
        log.warn({ subscriber: name, eventId, position, attempts, error }, 'delivery given up: a dead letter'),
    }).start();
    return { stop: () => void (deliveryStopped = runner.stop()) };
  }, logFailure('delivery lock'));
  // A signed checkpoint in the log itself, now and then (one node may record more than needed: harmless).
  const checkpoints =
    config.checkpointMinutes > 0
      ? setInterval(
          () => void recordCheckpoint(opened).catch(logFailure('checkpoint not recorded')),
          config.checkpointMinutes * 60_000,
        ).unref()
      : null;
  const stop = () => {
    log.info('stopping');
    if (checkpoints) clearInterval(checkpoints);
    reaction.stop();
    projections.stop();
    // No new run starts; one in progress ends and is recorded before the ledger closes.
    const schedulesStopped = schedules.stop();
    // An attempt in flight is cut: what was not checkpointed is sent again at the next start.
    delivery.stop();
    server.close(() => void Promise.all([schedulesStopped, deliveryStopped]).finally(() => opened.close()));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return server;
}

/** The app listening on the configured address, or the listen error (Express 5 hands it to the callback). */
function listening(app: Express, { port, host }: Pick<LedgerConfig, 'port' | 'host'>): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, host, (error?: Error) => (error ? reject(error) : resolve(server)));
  });
}
