import { resolve } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { DeadLetters, DeadLetterView, ProjectionRunner, RedriveResult } from '@tributary/projections';
import { CommandContext, brokersFor } from './command-context';
import { EXIT } from './exit-codes';
import { DEFAULT_CONFIG_FILE, loadConfig } from './config-loader';
import { openStore, runnerOptionsFor, selectProjections } from './configured-projections';

interface ConnectionOptions {
  readonly config: string;
  readonly brokers?: string;
}

/** An event's coordinates as `dlq list` prints them: `topic:partition:offset`. */
interface EventCoordinates {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
}

const PROJECTION = "the projection's name, as its @Projection or defineProjection gives it";

/** `tributary dlq list | redrive | skip`: a projection's dead letters. */
export function addDeadLetterCommands(program: Command, context: CommandContext): void {
  const dlq = program.command('dlq').description("A projection's dead letters: events its handlers failed on, and the later events of their aggregates parked behind them");
  const connection = (command: Command) =>
    command
      .option('-c, --config <file>', 'the configuration module', DEFAULT_CONFIG_FILE)
      .option('--brokers <list>', 'Kafka brokers, host:port,…; overrides the configuration and KAFKA_BROKERS');

  connection(dlq.command('list').argument('<projection>', PROJECTION))
    .description('Lists the outstanding dead letters: topic:partition:offset, aggregate, reason (failed or parked), event type and error')
    .action((name: string, options: ConnectionOptions) =>
      withDeadLetters(name, options, context, async (letters) => {
        const listed = await letters.list();
        for (const line of table(listed.map(columnsOf))) context.out(`${line}\n`);
        const parked = new Set(listed.map((letter) => letter.aggregate)).size;
        context.out(
          listed.length === 0
            ? `dlq list ${name}: no dead letters\n`
            : `dlq list ${name}: ${count(listed.length, 'dead letter')}, ${count(parked, 'aggregate')} parked\n`,
        );
      }),
    );

  connection(dlq.command('redrive').argument('<projection>', PROJECTION))
    .description('Handles the dead letters again, in order, each aggregate in one transaction, and unparks the aggregates that succeed; exits 1 if one fails again')
    .option('--aggregate <Type:id>', 'only the dead letters of this aggregate, e.g. Order:o-1', aggregateArgument)
    .action((name: string, options: ConnectionOptions & { aggregate?: string }) =>
      withDeadLetters(name, options, context, async (letters) => {
        const result = await letters.redrive(options.aggregate);
        report(`dlq redrive ${name}: ${count(result.redriven, 'dead letter')} of ${count(result.aggregates, 'aggregate')} redriven`, result, context);
      }),
    );

  connection(dlq.command('skip').argument('<projection>', PROJECTION))
    .argument('<event>', 'the dead letter to drop, topic:partition:offset as dlq list shows it', coordinatesArgument)
    .description('Drops one dead letter without handling it, then redrives the dead letters of its aggregate parked behind it; exits 1 if one fails again')
    .action((name: string, event: EventCoordinates, options: ConnectionOptions) =>
      withDeadLetters(name, options, context, async (letters) => {
        const result = await letters.skip(event.topic, event.partition, event.offset);
        report(`dlq skip ${name}: skipped ${event.topic}:${event.partition}:${event.offset}, ${count(result.redriven, 'parked dead letter')} redriven`, result, context);
      }),
    );
}

async function withDeadLetters(name: string, options: ConnectionOptions, context: CommandContext, action: (letters: DeadLetters) => Promise<void>): Promise<void> {
  const config = loadConfig(options.config, context.cwd);
  const [projection] = selectProjections(config, resolve(context.cwd, options.config), [name]);
  const brokers = brokersFor(config, options.brokers, context.env);
  const store = openStore(projection);
  try {
    // Never started: a runner here only knows the projection's topics, decoder and handlers.
    await action(new ProjectionRunner(runnerOptionsFor(config, projection, store, brokers)).deadLetters());
  } finally {
    await store.close().catch(() => undefined);
  }
}

/** Prints the failures (why each aggregate failed again) and the summary; exit 1 if any. */
function report(summary: string, result: RedriveResult, context: CommandContext): void {
  for (const failure of result.failed) context.out(`✘ ${failure.message} [${failure.code}]\n`);
  context.out(result.failed.length === 0 ? `${summary}\n` : `${summary}; ${count(result.failed.length, 'aggregate')} failed again\n`);
  if (result.failed.length > 0) context.setExitCode(EXIT.findings);
}

function columnsOf(letter: DeadLetterView): string[] {
  const error = letter.error === undefined ? '-' : `${letter.error}${letter.errorCode ? ` [${letter.errorCode}]` : ''}`;
  return [`${letter.topic}:${letter.partition}:${letter.offset}`, letter.aggregate, letter.reason, letter.type ?? '-', error];
}

/** Rows with every column but the last padded to its widest cell, two spaces apart. */
function table(rows: readonly string[][]): string[] {
  const widths = rows.reduce<number[]>((max, row) => row.map((cell, index) => Math.max(max[index] ?? 0, cell.length)), []);
  return rows.map((row) => row.map((cell, index) => (index === row.length - 1 ? cell : cell.padEnd(widths[index]))).join('  '));
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

function aggregateArgument(value: string): string {
  if (!/^[^:]+:.+$/.test(value)) throw new InvalidArgumentError('Give the aggregate as Type:id, e.g. Order:o-1, as dlq list shows it.');
  return value;
}

function coordinatesArgument(value: string): EventCoordinates {
  // Topic names cannot hold ':', so the last two fields are the partition and the offset.
  const match = /^([a-zA-Z0-9._-]+):(\d+):(\d+)$/.exec(value);
  if (!match) throw new InvalidArgumentError('Give the dead letter as topic:partition:offset, as dlq list shows it.');
  return { topic: match[1], partition: Number(match[2]), offset: match[3] };
}
