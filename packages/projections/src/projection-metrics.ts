import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * Prometheus metrics of projection runners (prom-client), all labelled by
 * projection. One instance can serve every runner of a process; the
 * registry is what `/metrics` exposes.
 *
 * - `tributary_projection_events_total`: events handled (rate() gives events/s)
 * - `tributary_projection_lag`: records between the committed offset and the end, per topic and partition
 * - `tributary_projection_batch_seconds`: time to handle and commit one transaction
 * - `tributary_projection_dead_letters`: outstanding dead letters (DLQ depth)
 * - `tributary_projection_dead_lettered_total`: events sent to the dead-letter topic
 * - `tributary_projection_conflicts_total`: commits refused by the offset compare-and-set (zombies, swaps)
 * - `tributary_projection_retries_total`: batches retried after a transient error
 */
export class ProjectionMetrics {
  readonly registry: Registry;
  readonly events: Counter<'projection'>;
  readonly lag: Gauge<'projection' | 'topic' | 'partition'>;
  readonly batchSeconds: Histogram<'projection'>;
  readonly deadLetters: Gauge<'projection'>;
  readonly deadLettered: Counter<'projection'>;
  readonly conflicts: Counter<'projection'>;
  readonly retries: Counter<'projection'>;

  constructor(registry: Registry = new Registry()) {
    this.registry = registry;
    const registers = [registry];
    this.events = new Counter({ name: 'tributary_projection_events_total', help: 'Events handled by projections', labelNames: ['projection'], registers });
    this.lag = new Gauge({ name: 'tributary_projection_lag', help: 'Records between a projection\'s committed offset and the end of the partition', labelNames: ['projection', 'topic', 'partition'], registers });
    this.batchSeconds = new Histogram({
      name: 'tributary_projection_batch_seconds',
      help: 'Time to handle and commit one projection transaction',
      labelNames: ['projection'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.deadLetters = new Gauge({ name: 'tributary_projection_dead_letters', help: 'Outstanding dead letters of a projection (DLQ depth)', labelNames: ['projection'], registers });
    this.deadLettered = new Counter({ name: 'tributary_projection_dead_lettered_total', help: 'Events a projection sent to its dead-letter topic', labelNames: ['projection'], registers });
    this.conflicts = new Counter({ name: 'tributary_projection_conflicts_total', help: 'Projection commits refused by the offset compare-and-set', labelNames: ['projection'], registers });
    this.retries = new Counter({ name: 'tributary_projection_retries_total', help: 'Projection transactions retried after a transient error', labelNames: ['projection'], registers });
  }
}
