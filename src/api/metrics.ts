import { Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { ProjectionLag, ProjectionRunner } from '../projections/runner.js';

/** Prometheus metrics, read at scrape time: the log head, the projection position and its lag. */
export function createMetrics(runner: ProjectionRunner): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const gauge = (name: string, help: string, read: (lag: ProjectionLag) => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      async collect() {
        this.set(read(await runner.lag()));
      },
    });
  gauge('ledger_head_position', 'Global position of the last stored event', (lag) => lag.head);
  gauge('ledger_projection_position', 'Last position applied to the read models', (lag) => lag.position);
  gauge('ledger_projection_lag_events', 'Events stored but not yet in the read models', (lag) => lag.lag);
  gauge('ledger_projection_failed', '1 when the projection runner stopped on an error', (lag) => (lag.failed ? 1 : 0));
  return registry;
}
