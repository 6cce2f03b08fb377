import { ReadModelStore } from '@tributary/core';
import { ProjectionModel, ProjectionRunnerOptions } from '@tributary/projections';
import { InvalidConfigError, UnknownProjectionError } from './errors/cli.errors';
import { ProjectionConfig, TributaryConfig } from './tributary-config';

/** A projection of the configuration, with the name the commands know it by. */
export interface ConfiguredProjection {
  readonly name: string;
  readonly config: ProjectionConfig;
}

/**
 * The configuration's projections named by a command, in the order named (all
 * of them, in the configured order, when none is named).
 * @throws {@link UnknownProjectionError} for a name the configuration lacks;
 * {@link InvalidConfigError} when two share a name, or none is configured and none named.
 */
export function selectProjections(config: TributaryConfig, path: string, names: readonly string[]): ConfiguredProjection[] {
  const configured = (config.projections ?? []).map((entry) => ({ name: ProjectionModel.of(entry.projection).name, config: entry }));
  const byName = new Map<string, ConfiguredProjection>();
  for (const projection of configured) {
    if (byName.has(projection.name)) throw new InvalidConfigError(path, `lists projection '${projection.name}' twice: each name is one consumer group and one read model, keep one`);
    byName.set(projection.name, projection);
  }
  if (names.length === 0) {
    if (configured.length === 0) throw new InvalidConfigError(path, 'lists no projections: add projections: [{ projection, store }] to run them');
    return configured;
  }
  return [...new Set(names)].map((name) => {
    const projection = byName.get(name);
    if (!projection) throw new UnknownProjectionError(name, [...byName.keys()]);
    return projection;
  });
}

/** The projection's store: the configured one, or a new one from the configured function. */
export function openStore(projection: ConfiguredProjection): ReadModelStore {
  const { store } = projection.config;
  return typeof store === 'function' ? store() : store;
}

/** A runner's (or a rebuild's) options for a configured projection. */
export function runnerOptionsFor(config: TributaryConfig, projection: ConfiguredProjection, store: ReadModelStore, brokers: readonly string[]): ProjectionRunnerOptions<unknown> {
  return {
    app: config.app,
    prefix: config.prefix,
    brokers,
    partitions: config.partitions,
    aggregates: config.aggregates,
    events: config.events,
    upcasters: config.upcasters,
    serializer: config.serializer,
    projection: projection.config.projection,
    store,
    batchSize: projection.config.batchSize,
    concurrency: projection.config.concurrency,
  };
}
