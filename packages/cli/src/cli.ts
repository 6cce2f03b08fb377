import { Command, CommanderError } from 'commander';
import { ConfigurationError, TributaryError, exploreAggregate } from '@tributary/core';
import { BulkReplay } from '@tributary/kafka';
import {
  ConfluentSchemaRegistry,
  EventSchemaGapError,
  IncompatibleEventSchemaError,
  IncompatibleSchemaError,
  SchemaFinding,
  SchemaGate,
  SchemaRegistry,
} from '@tributary/avro';
import { UnknownDeadLetterError } from '@tributary/projections';
import { CommandContext, brokersFor } from './command-context';
import { DEFAULT_CONFIG_FILE, loadConfig } from './config-loader';
import { addDeadLetterCommands } from './dead-letter-commands';
import { NoSchemaRegistryError, UnknownAggregateError } from './errors/cli.errors';
import { EXIT } from './exit-codes';
import { addProjectionCommands } from './projection-commands';
import { ProgressBar } from './progress-bar';
import { eventTopicsOf } from './schema-topics';
import { TributaryConfig } from './tributary-config';

export { EXIT } from './exit-codes';

/** Where the command writes, and what it resolves paths against; the process's own by default. */
export interface CliEnvironment {
  readonly stdout?: (text: string) => void;
  readonly stderr?: (text: string) => void;
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Whether stderr is a terminal, for progress drawn in place. Defaults to `process.stderr.isTTY`. */
  readonly stderrIsTTY?: boolean;
  /** Least time between two progress lines when stderr is not a terminal. Defaults to 1 000 ms. */
  readonly progressIntervalMs?: number;
  /**
   * Stops `tributary projection run` as SIGTERM does: the workers commit the
   * batch in hand and leave their groups, and the command resolves 0. When
   * given, the command installs no process signal handlers.
   */
  readonly signal?: AbortSignal;
}

/**
 * Runs `tributary <args>` and resolves with its exit code; never exits the process.
 *
 * @example
 * ```sh
 * npx tributary schemas check --config dist/tributary.config.js
 * npx tributary schemas register
 * npx tributary replay Order --brokers localhost:9092
 * npx tributary projection run --port 9464
 * npx tributary projection rebuild order-summary
 * npx tributary dlq list order-summary
 * ```
 */
export async function runCli(args: readonly string[], environment: CliEnvironment = {}): Promise<number> {
  const out = environment.stdout ?? ((text: string) => process.stdout.write(text));
  const err = environment.stderr ?? ((text: string) => process.stderr.write(text));
  const cwd = environment.cwd ?? process.cwd();
  const env = environment.env ?? process.env;
  let exitCode: number = EXIT.ok;
  const context: CommandContext = {
    out,
    err,
    cwd,
    env,
    stderrIsTTY: environment.stderrIsTTY ?? process.stderr.isTTY ?? false,
    progressIntervalMs: environment.progressIntervalMs,
    signal: environment.signal,
    setExitCode: (code) => (exitCode = code),
  };

  const program = new Command('tributary')
    .description('Tributary: event sourcing on Apache Kafka')
    .exitOverride()
    .configureOutput({ writeOut: out, writeErr: err });
  const schemas = program.command('schemas').description('Event schemas in the schema registry');
  const withConfig = (command: Command) =>
    command.option('-c, --config <file>', 'the configuration module', DEFAULT_CONFIG_FILE).option('--registry <url>', 'the schema registry (Confluent API); overrides the configuration');

  withConfig(schemas.command('check'))
    .description("Compares the local event schemas with the registry's: exits 1 naming the event, field and rule of every incompatible change or unreadable version")
    .action(async (options: { config: string; registry?: string }) => {
      const gate = gateFor(loadConfig(options.config, cwd), options.registry, env);
      const report = await gate.check();
      for (const finding of report.findings) out(`${describe(finding)}\n`);
      const bad = report.findings.filter((finding) => finding.kind === 'incompatible' || finding.kind === 'gap');
      out(bad.length === 0 ? `schemas check: ${report.findings.length} schemas, all compatible\n` : `schemas check: ${bad.length} of ${report.findings.length} schemas would break readers\n`);
      exitCode = bad.length === 0 ? EXIT.ok : EXIT.findings;
    });

  withConfig(schemas.command('register'))
    .description('Sets the compatibility of each subject and registers the current schema of every event; refuses an incompatible one')
    .action(async (options: { config: string; registry?: string }) => {
      const gate = gateFor(loadConfig(options.config, cwd), options.registry, env);
      for (const entry of await gate.register()) {
        out(`${entry.created ? 'registered' : 'unchanged '} ${entry.subject} ${entry.type} v${entry.version}: schema id ${entry.id}, subject version ${entry.registryVersion}\n`);
      }
    });

  program
    .command('replay <aggregate>')
    .description(
      "Replays an aggregate type's events topic into memory: every partition, committed events only, through the upcasters; " +
        'shows progress on stderr and ends with the counts and the rate',
    )
    .option('-c, --config <file>', 'the configuration module', DEFAULT_CONFIG_FILE)
    .option('--brokers <list>', 'Kafka brokers, host:port,…; overrides the configuration and KAFKA_BROKERS')
    .action(async (aggregate: string, options: { config: string; brokers?: string }) => {
      const config = loadConfig(options.config, cwd);
      const models = config.aggregates.map((aggregateClass) => exploreAggregate(aggregateClass));
      const model = models.find((candidate) => candidate.type === aggregate) ?? models.find((candidate) => candidate.target.name === aggregate);
      if (!model) throw new UnknownAggregateError(aggregate, models.map((candidate) => candidate.type));
      const replay = new BulkReplay({
        app: config.app,
        prefix: config.prefix,
        brokers: brokersFor(config, options.brokers, env),
        partitions: config.partitions,
        aggregates: [model.target],
        events: config.events,
        upcasters: config.upcasters,
        serializer: config.serializer,
      });
      const bar = new ProgressBar({ write: err, tty: context.stderrIsTTY, label: `replay ${model.type}`, unit: 'events', lineIntervalMs: context.progressIntervalMs });
      let total = 0;
      replay.on('replay.started', ({ totalRecords }) => (total = totalRecords));
      replay.on('replay.progress', ({ remaining, eventsPerSecond, etaMs }) =>
        bar.update({ fraction: total === 0 ? 1 : 1 - remaining / total, rate: eventsPerSecond, etaMs }),
      );
      const result = await replay.run();
      bar.finish(result.eventsPerSecond);
      const aggregates = result.aggregates.get(model.type)?.size ?? 0;
      out(`replay ${model.type}: ${result.events} events, ${aggregates} aggregates in ${(result.elapsedMs / 1000).toFixed(2)} s, ${result.eventsPerSecond} events/s\n`);
    });

  addProjectionCommands(program, context);
  addDeadLetterCommands(program, context);

  try {
    await program.parseAsync([...args], { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    if (error instanceof TributaryError) {
      err(`tributary: ${error.message} [${error.code}]\n`);
      if (error instanceof IncompatibleEventSchemaError || error instanceof IncompatibleSchemaError || error instanceof EventSchemaGapError) return EXIT.findings;
      // Naming a dead letter that is not outstanding is a usage mistake, whatever package throws it.
      return error instanceof ConfigurationError || error instanceof UnknownDeadLetterError ? EXIT.usage : EXIT.failure;
    }
    err(`tributary: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    return EXIT.failure;
  }
}

function gateFor(config: TributaryConfig, registryUrl: string | undefined, env: NodeJS.ProcessEnv): SchemaGate {
  const topics = eventTopicsOf(config);
  return new SchemaGate({
    registry: registryFor(config, registryUrl, env),
    events: [...topics.flatMap((topic) => topic.eventClasses), ...(config.events ?? [])],
    topics,
    upcasters: config.upcasters,
    compatibility: config.compatibility,
  });
}

function registryFor(config: TributaryConfig, url: string | undefined, env: NodeJS.ProcessEnv): SchemaRegistry {
  if (url) return new ConfluentSchemaRegistry({ url });
  const configured = config.schemaRegistry;
  if (configured && 'url' in configured && Object.keys(configured).length === 1) return new ConfluentSchemaRegistry({ url: configured.url });
  if (configured) return configured as SchemaRegistry;
  if (env.SCHEMA_REGISTRY_URL) return new ConfluentSchemaRegistry({ url: env.SCHEMA_REGISTRY_URL });
  throw new NoSchemaRegistryError();
}

function describe(finding: SchemaFinding): string {
  const mark = finding.kind === 'incompatible' || finding.kind === 'gap' ? '✘' : '✔';
  const lines = [`${mark} ${finding.type} v${finding.version} (${finding.subject}): ${finding.message}`];
  for (const issue of finding.issues) lines.push(`    ${issue.path}  ${issue.rule}  ${issue.message}`);
  return lines.join('\n');
}
