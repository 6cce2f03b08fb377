import { Command, CommanderError } from 'commander';
import { ConfigurationError, TributaryError } from '@tributary/core';
import {
  ConfluentSchemaRegistry,
  EventSchemaGapError,
  IncompatibleEventSchemaError,
  IncompatibleSchemaError,
  SchemaFinding,
  SchemaGate,
  SchemaRegistry,
} from '@tributary/avro';
import { DEFAULT_CONFIG_FILE, loadConfig } from './config-loader';
import { NoSchemaRegistryError } from './errors/cli.errors';
import { eventTopicsOf } from './schema-topics';
import { TributaryConfig } from './tributary-config';

/** Where the command writes, and what it resolves paths against; the process's own by default. */
export interface CliEnvironment {
  readonly stdout?: (text: string) => void;
  readonly stderr?: (text: string) => void;
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
}

/** Exit codes: 0 fine, 1 the check found an incompatible change or a gap, 2 bad usage or configuration, 3 a failure talking to a service. */
export const EXIT = { ok: 0, findings: 1, usage: 2, failure: 3 } as const;

/**
 * Runs `tributary <args>` and resolves with its exit code; never exits the process.
 *
 * @example
 * ```sh
 * npx tributary schemas check --config dist/tributary.config.js
 * npx tributary schemas register
 * ```
 */
export async function runCli(args: readonly string[], environment: CliEnvironment = {}): Promise<number> {
  const out = environment.stdout ?? ((text: string) => process.stdout.write(text));
  const err = environment.stderr ?? ((text: string) => process.stderr.write(text));
  const cwd = environment.cwd ?? process.cwd();
  const env = environment.env ?? process.env;
  let exitCode: number = EXIT.ok;

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

  try {
    await program.parseAsync([...args], { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    if (error instanceof TributaryError) {
      err(`tributary: ${error.message} [${error.code}]\n`);
      if (error instanceof IncompatibleEventSchemaError || error instanceof IncompatibleSchemaError || error instanceof EventSchemaGapError) return EXIT.findings;
      return error instanceof ConfigurationError ? EXIT.usage : EXIT.failure;
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
