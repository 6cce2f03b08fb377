import { AggregateRoot, Constructor, InvalidOptionError, JsonSerializer, Serializer } from '@tributary/core';
import { KafkaConfig } from 'kafkajs';
import { TopicLayout } from './topic-layout';

/** What every Tributary component on Kafka is configured with. */
export interface KafkaConnectionOptions {
  /** Names the app's topics (`<app>.commands` …), groups and transactional ids. */
  readonly app: string;
  /**
   * Starts every topic name, group id and transactional id of the app in place
   * of `app`, e.g. `'team-a.shop'`. Defaults to `app`. Every component of one
   * app (processors, buses, event stores, runners, replays, the CLI) must be
   * given the same prefix, or they read topics nobody writes.
   */
  readonly prefix?: string;
  /** Broker addresses, `host:port`. */
  readonly brokers: readonly string[];
  /** The aggregates whose commands flow through the app. */
  readonly aggregates: readonly Constructor<AggregateRoot>[];
  /**
   * Partitions of every topic of the app. Command partition p writes partition p
   * of the others, so they must all match; it bounds how many processors share
   * the work. Cannot be lowered later. Defaults to 6.
   */
  readonly partitions?: number;
  /** How event payloads are written. Defaults to {@link JsonSerializer}. */
  readonly serializer?: Serializer;
  /** Passed to kafkajs: `ssl`, `sasl`, `clientId`, `logLevel` … */
  readonly kafkaConfig?: Omit<KafkaConfig, 'brokers'>;
  /** Bound on connecting at start-up before {@link BrokerUnreachableError}. Defaults to 10 000 ms. */
  readonly startupTimeoutMs?: number;
}

export interface ResolvedConnectionOptions extends Required<Omit<KafkaConnectionOptions, 'kafkaConfig'>> {
  /** Every topic, group and transactional id of the app, named from `prefix`. */
  readonly layout: TopicLayout;
  readonly kafkaConfig: Omit<KafkaConfig, 'brokers'>;
}

/** Checks the shared options with guard clauses whose messages say what to do. */
export function resolveConnectionOptions(options: KafkaConnectionOptions, component: string): ResolvedConnectionOptions {
  if (!options || typeof options !== 'object') throw new InvalidOptionError(`${component} needs options: { app, brokers, aggregates }`);
  if (typeof options.app !== 'string' || !/^[a-zA-Z0-9._-]+$/.test(options.app)) {
    throw new InvalidOptionError(`${component} option app must be a non-empty name of letters, digits, '.', '_' or '-', got ${JSON.stringify(options.app)}`);
  }
  if (!Array.isArray(options.brokers) || options.brokers.length === 0 || options.brokers.some((b) => typeof b !== 'string' || !b.includes(':'))) {
    throw new InvalidOptionError(`${component} option brokers must be a non-empty array of 'host:port' strings, got ${JSON.stringify(options.brokers)}`);
  }
  const partitions = options.partitions ?? 6;
  if (!Number.isInteger(partitions) || partitions < 1) {
    throw new InvalidOptionError(`${component} option partitions must be a whole number of at least 1, got ${partitions}`);
  }
  const startupTimeoutMs = options.startupTimeoutMs ?? 10_000;
  if (!(startupTimeoutMs > 0)) throw new InvalidOptionError(`${component} option startupTimeoutMs must be positive, got ${startupTimeoutMs}`);
  return {
    app: options.app,
    prefix: options.prefix ?? options.app,
    // Checks the prefix (and the names it makes) with messages of its own.
    layout: new TopicLayout({ app: options.app, prefix: options.prefix, partitions }),
    brokers: options.brokers,
    aggregates: options.aggregates,
    partitions,
    serializer: options.serializer ?? new JsonSerializer(),
    kafkaConfig: options.kafkaConfig ?? {},
    startupTimeoutMs,
  };
}
