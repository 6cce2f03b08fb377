import { resolve } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { ReadModelStore } from '@tributary/core';
import { DEFAULT_PROJECTION_SERVER_PORT, ProjectionMetrics, ProjectionRebuild, ProjectionRunner, ProjectionServer, serveProjections } from '@tributary/projections';
import { CommandContext, brokersFor } from './command-context';
import { DEFAULT_CONFIG_FILE, loadConfig } from './config-loader';
import { openStore, runnerOptionsFor, selectProjections } from './configured-projections';
import { MetricsPortInUseError } from './errors/cli.errors';
import { ProgressBar } from './progress-bar';
import { listenForStop } from './stop-request';

interface ConnectionOptions {
  readonly config: string;
  readonly brokers?: string;
}

/**
 * `tributary projection run [names...]` and `tributary projection rebuild <name>`:
 * projection workers, and rebuilds swapped in while the workers serve.
 */
export function addProjectionCommands(program: Command, context: CommandContext): void {
  const projection = program.command('projection').description('Projections: run their workers, rebuild their read models');
  const connection = (command: Command) =>
    command
      .option('-c, --config <file>', 'the configuration module', DEFAULT_CONFIG_FILE)
      .option('--brokers <list>', 'Kafka brokers, host:port,…; overrides the configuration and KAFKA_BROKERS');

  connection(projection.command('run').argument('[names...]', 'the projections to run (default: every configured one)'))
    .description(
      'Runs a worker for each configured projection (or those named) until SIGTERM or SIGINT, then stops gracefully: ' +
        'the batch in hand commits and the workers leave their groups. Serves /metrics (Prometheus) and /health; exits 3 if a worker fails',
    )
    .option('--port <n>', `port of /metrics and /health; 0 picks a free one (default: ${DEFAULT_PROJECTION_SERVER_PORT})`, port)
    .option('--host <address>', 'address /metrics and /health listen on (default: every interface)')
    .action((names: string[], options: ConnectionOptions & { port?: number; host?: string }) => runProjections(names, options, context));

  connection(projection.command('rebuild').argument('<name>', "the projection's name"))
    .description(
      'Rebuilds a projection from the beginning of its topics into a shadow version while its workers keep serving the live one, ' +
        'then swaps them atomically; shows progress on stderr and ends with the counts and the rate',
    )
    .option('--swap-lag <n>', 'swap once the shadow is this many records or fewer from the end (default: 1000)', wholeNumber)
    .action((name: string, options: ConnectionOptions & { swapLag?: number }) => rebuildProjection(name, options, context));
}

async function runProjections(names: readonly string[], options: ConnectionOptions & { port?: number; host?: string }, context: CommandContext): Promise<void> {
  const { out } = context;
  const config = loadConfig(options.config, context.cwd);
  const selected = selectProjections(config, resolve(context.cwd, options.config), names);
  const brokers = brokersFor(config, options.brokers, context.env);
  const metrics = new ProjectionMetrics();
  const stores: ReadModelStore[] = [];
  const runners: ProjectionRunner[] = [];
  let server: ProjectionServer | undefined;
  let onFailure: (error: unknown) => void = () => {};
  const failed = new Promise<unknown>((resolveFailure) => (onFailure = resolveFailure));
  const stop = listenForStop(context.signal);
  try {
    for (const projection of selected) {
      const store = openStore(projection);
      stores.push(store);
      // The command stops its workers on SIGTERM and SIGINT itself (listenForStop), all together, then closes the server and the stores.
      const runner = new ProjectionRunner({ ...runnerOptionsFor(config, projection, store, brokers), metrics, stopOnSignals: false });
      runner.on('projection.failed', ({ error }) => onFailure(error));
      runners.push(runner);
    }
    const port = options.port ?? DEFAULT_PROJECTION_SERVER_PORT;
    server = await serveProjections({ runners, metrics, processMetrics: true, port, host: options.host }).catch((error: NodeJS.ErrnoException) => {
      throw error?.code === 'EADDRINUSE' ? new MetricsPortInUseError(port, error) : error;
    });
    out(`projection run: /metrics and /health on ${server.url}\n`);
    // Each worker starts on its own: one that cannot start must not leave another half-started when the others are stopped.
    const started = await Promise.allSettled(
      runners.map(async (runner) => {
        await runner.start();
        out(`projection ${runner.name}: running in group ${runner.groupId}, reading ${runner.topics.join(', ')}\n`);
      }),
    );
    const refused = started.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
    if (refused) throw refused.reason;
    const outcome = await Promise.race([stop.requested.then((reason) => ({ reason })), failed.then((error) => ({ error }))]);
    if ('error' in outcome) throw outcome.error;
    out(`projection run: ${outcome.reason}, stopping: each worker commits the batch in hand and leaves its group\n`);
    await Promise.all(
      runners.map(async (runner) => {
        await runner.stop();
        out(`projection ${runner.name}: stopped\n`);
      }),
    );
  } finally {
    stop.dispose();
    // Graceful here too when a worker failed: the others commit and leave before the process exits.
    await Promise.all(runners.map((runner) => runner.stop()));
    await server?.close();
    await closeAll(stores);
  }
}

async function rebuildProjection(name: string, options: ConnectionOptions & { swapLag?: number }, context: CommandContext): Promise<void> {
  const config = loadConfig(options.config, context.cwd);
  const [projection] = selectProjections(config, resolve(context.cwd, options.config), [name]);
  const brokers = brokersFor(config, options.brokers, context.env);
  const store = openStore(projection);
  try {
    const rebuild = new ProjectionRebuild({ ...runnerOptionsFor(config, projection, store, brokers), swapLag: options.swapLag });
    const bar = new ProgressBar({ write: context.err, tty: context.stderrIsTTY, label: `rebuild ${projection.name}`, unit: 'events', lineIntervalMs: context.progressIntervalMs });
    rebuild.on('rebuild.progress', ({ fraction, eventsPerSecond, etaMs, lag }) => bar.update({ fraction, rate: eventsPerSecond, etaMs, detail: `lag ${lag}` }));
    const result = await rebuild.run();
    bar.finish(result.eventsPerSecond);
    context.out(`rebuild ${projection.name}: ${result.events} events in ${(result.elapsedMs / 1000).toFixed(2)} s, ${result.eventsPerSecond} events/s; swapped\n`);
  } finally {
    await closeAll([store]);
  }
}

async function closeAll(stores: readonly ReadModelStore[]): Promise<void> {
  // A store that fails to close must not hide the command's own outcome.
  await Promise.all(stores.map((store) => store.close().catch(() => undefined)));
}

function port(value: string): number {
  const parsed = Number(value);
  if (!/^\d+$/.test(value) || parsed > 65_535) throw new InvalidArgumentError('Give a port from 0 to 65535.');
  return parsed;
}

function wholeNumber(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('Give a whole number of 0 or more.');
  return Number(value);
}
