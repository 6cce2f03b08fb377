import { ConfigurationError } from '@tributary/core';

/** The configuration module named by `--config` does not exist. */
export class ConfigFileNotFoundError extends ConfigurationError {
  static readonly code = 'CONFIG_FILE_NOT_FOUND';
  constructor(readonly path: string) {
    super(
      `No Tributary configuration at ${path}: create it (export default defineConfig({ app, aggregates, … }) from '@tributary/cli'), or name another with --config <file>`,
      ConfigFileNotFoundError.code,
    );
  }
}

/**
 * The configuration module cannot be used: it does not parse or compile, it
 * threw while loading (the original error is the `cause`), or what it exports
 * is not a usable configuration.
 */
export class InvalidConfigError extends ConfigurationError {
  static readonly code = 'INVALID_CONFIG';
  constructor(
    readonly path: string,
    problem: string,
    cause?: unknown,
  ) {
    super(`The Tributary configuration in ${path} ${problem}`, InvalidConfigError.code, cause);
  }
}

/** No schema registry was named: not on the command line, in the configuration, or in the environment. */
export class NoSchemaRegistryError extends ConfigurationError {
  static readonly code = 'NO_SCHEMA_REGISTRY';
  constructor() {
    super(
      'No schema registry: pass --registry <url>, set SCHEMA_REGISTRY_URL, or give schemaRegistry: { url } in the configuration',
      NoSchemaRegistryError.code,
    );
  }
}

/** No Kafka brokers were named: not on the command line, in the configuration, or in the environment. */
export class NoBrokersError extends ConfigurationError {
  static readonly code = 'NO_BROKERS';
  constructor() {
    super('No Kafka brokers: pass --brokers <host:port,…>, set KAFKA_BROKERS, or give brokers: [...] in the configuration', NoBrokersError.code);
  }
}

/** The command named an aggregate the configuration does not list. */
export class UnknownAggregateError extends ConfigurationError {
  static readonly code = 'UNKNOWN_AGGREGATE';
  constructor(
    readonly aggregate: string,
    known: readonly string[],
  ) {
    super(`No aggregate '${aggregate}' in the configuration; name one of its aggregate types: ${known.join(', ')}`, UnknownAggregateError.code);
  }
}

/** The command named a projection the configuration does not list. */
export class UnknownProjectionError extends ConfigurationError {
  static readonly code = 'UNKNOWN_PROJECTION';
  constructor(
    readonly projection: string,
    readonly known: readonly string[],
  ) {
    super(
      known.length === 0
        ? `No projection '${projection}' in the configuration, which lists none: add projections: [{ projection, store }] to it`
        : `No projection '${projection}' in the configuration; name one of its projections: ${known.join(', ')}`,
      UnknownProjectionError.code,
    );
  }
}

/** The port for `/metrics` and `/health` is taken by another process. */
export class MetricsPortInUseError extends ConfigurationError {
  static readonly code = 'METRICS_PORT_IN_USE';
  constructor(
    readonly port: number,
    cause: unknown,
  ) {
    super(`Port ${port} for /metrics and /health is in use: pass --port <n> with a free one (0 picks any)`, MetricsPortInUseError.code, cause);
  }
}
