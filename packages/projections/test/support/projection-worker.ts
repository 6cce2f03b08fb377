/**
 * A ProjectionRunner of the PostgreSQL order summary in a process of its own,
 * for the tests that kill workers. Configured by environment, it reports on
 * stdout one JSON object per line: `ready`, each `committed` transaction,
 * `conflict`, `retry`, `failed`, and `killing` just before it kills itself.
 *
 *   KAFKA_BROKERS, TRIBUTARY_APP, PARTITIONS, DATABASE_URL
 *   PROJECTION, TABLE          the PgOrderSummary to run
 *   BATCH_SIZE, DELAY_MS       events per transaction, milliseconds per event (slow batches)
 *   SESSION_TIMEOUT_MS, HEARTBEAT_INTERVAL_MS
 *   KILL_AT_EVENT              SIGKILL itself inside the handler of its n-th event: mid-transaction,
 *                              with the batch's earlier writes done but not committed
 *   WAIT_FOR_GO                report `loaded` and start the runner only on a line `go` on stdin
 *                              (loading takes seconds: a test can load the next worker while this one runs)
 *   RUNNER_STOPS_ON_SIGNALS    1: leave SIGTERM and SIGINT to the runner (its stopOnSignals), as an
 *                              application that only starts a runner does; the process then ends by the signal
 *
 * It stops cleanly on SIGTERM (by its own handler, unless RUNNER_STOPS_ON_SIGNALS) or on a line `stop` on stdin.
 */
import { PostgresWriter } from '@tributary/postgres';
import { ProjectionRunner } from '@tributary/projections';
import { Pool } from 'pg';
import { PgOrderSummary } from './pg-order-summary';
import { handlerBehaviour } from './projected-order';
import { ShopOrder } from './shop';

const env = (name: string, fallback?: string): string => {
  const value = process.env[name] ?? fallback;
  if (value === undefined) throw new Error(`projection-worker needs ${name}`);
  return value;
};

function report(event: string, details: object = {}): void {
  process.stdout.write(`${JSON.stringify({ event, pid: process.pid, at: Date.now(), ...details })}\n`);
}

let stopRequested: () => void = () => undefined;
const go = new Promise<void>((resolve) => {
  process.stdin.on('data', (chunk) => {
    if (chunk.toString().includes('go')) resolve();
    if (chunk.toString().includes('stop')) stopRequested();
  });
});

async function main(): Promise<void> {
  report('loaded');
  if (process.env.WAIT_FOR_GO === '1') await go;
  const pool = new Pool({ connectionString: env('DATABASE_URL'), max: 4 });
  const model = new PgOrderSummary(pool, env('PROJECTION'), env('TABLE'));
  const killAt = Number(process.env.KILL_AT_EVENT ?? '0');
  let handled = 0;
  const behaviour = handlerBehaviour({
    delayMs: Number(env('DELAY_MS', '0')),
    beforeEvent: () => {
      handled += 1;
      if (handled === killAt) {
        report('killing', { handled });
        process.kill(process.pid, 'SIGKILL');
      }
    },
  });
  const runnerStopsOnSignals = process.env.RUNNER_STOPS_ON_SIGNALS === '1';
  const runner = new ProjectionRunner<PostgresWriter>({
    app: env('TRIBUTARY_APP'),
    brokers: env('KAFKA_BROKERS').split(','),
    partitions: Number(env('PARTITIONS', '3')),
    aggregates: [ShopOrder],
    projection: model.projection(behaviour),
    store: model.store(),
    batchSize: Number(env('BATCH_SIZE', '20')),
    sessionTimeoutMs: Number(env('SESSION_TIMEOUT_MS', '3000')),
    heartbeatIntervalMs: Number(env('HEARTBEAT_INTERVAL_MS', '500')),
    stopOnSignals: runnerStopsOnSignals,
  });
  runner.on('projection.committed', (commit) => report('committed', commit));
  runner.on('projection.conflict', (conflict) => report('conflict', conflict));
  runner.on('projection.retry', ({ topic, partition, attempt, error }) => report('retry', { topic, partition, attempt, error: String(error) }));
  runner.on('projection.failed', ({ error }) => report('failed', { error: String(error), cause: String((error as { cause?: unknown })?.cause) }));

  await runner.start();
  report('ready');

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await runner.stop();
    await pool.end();
    report('stopped', { state: runner.state });
    process.exit(0);
  };
  if (!runnerStopsOnSignals) process.on('SIGTERM', () => void stop());
  stopRequested = () => void stop();
}

main().catch((error) => {
  report('failed', { error: String(error) });
  process.exit(1);
});
