import { AggregateRoot, AnyClass, Constructor, ReadModelStore, Serializer, Upcaster } from '@tributary/core';
import { CompatibilityLevel, SchemaRegistry } from '@tributary/avro';
import { ProjectionSource } from '@tributary/projections';

/**
 * What the `tributary` command needs to know about an app: the module named by
 * `--config` (default `tributary.config.js` in the working directory) exports
 * one, as `default` or as `config`.
 *
 * @example
 * ```ts
 * // tributary.config.ts, compiled to tributary.config.js
 * import { defineConfig } from '@tributary/cli';
 * export default defineConfig({
 *   app: 'shop',
 *   aggregates: [Order],
 *   events: [OrderCreatedV1, OrderCreatedV2], // past versions, kept declared
 *   upcasters: [renameCustomer],
 *   schemaRegistry: { url: process.env.SCHEMA_REGISTRY_URL! },
 * });
 * ```
 */
export interface TributaryConfig {
  /** The app, as given to the command processors: it names the topics. */
  readonly app: string;
  /** Topic prefix, if the processors were given one. Defaults to `app`. */
  readonly prefix?: string;
  /** The aggregates whose events topics hold the events. */
  readonly aggregates: readonly Constructor<AggregateRoot>[];
  /**
   * Event classes besides those the aggregates apply: the past versions still
   * in the topics, each with its schema, so history stays readable and checkable.
   */
  readonly events?: readonly AnyClass[];
  /** The upcasters that carry past versions to the current classes. */
  readonly upcasters?: readonly Upcaster[];
  /** The Confluent-compatible schema registry: its URL, or a client. Defaults to `SCHEMA_REGISTRY_URL`. */
  readonly schemaRegistry?: { readonly url: string } | SchemaRegistry;
  /** Compatibility set on new subjects. Defaults to `BACKWARD_TRANSITIVE`. */
  readonly compatibility?: CompatibilityLevel;
  /** Kafka broker addresses, `host:port`, for `tributary replay`, `projection` and `dlq`. Defaults to `KAFKA_BROKERS` (comma-separated). */
  readonly brokers?: readonly string[];
  /** Partitions of the app's topics, as given to the processors. Defaults to 6. */
  readonly partitions?: number;
  /** How the app writes event payloads, as given to the processors (e.g. an `AvroSerializer`). Defaults to JSON. */
  readonly serializer?: Serializer;
  /**
   * The app's projections, for `tributary projection run | rebuild` and
   * `tributary dlq …`; each is named by its projection's name.
   */
  readonly projections?: readonly ProjectionConfig[];
}

/**
 * One projection of a {@link TributaryConfig}: the projection and the store of
 * its read model, with the runner's tuning. The runners read the config's
 * `app`, `prefix`, `aggregates`, `events`, `upcasters`, `partitions` and `serializer`.
 *
 * @example
 * ```ts
 * import { defineConfig } from '@tributary/cli';
 * import { PostgresReadModelStore } from '@tributary/postgres';
 * export default defineConfig({
 *   app: 'shop',
 *   aggregates: [Order],
 *   projections: [
 *     {
 *       projection: OrderSummary, // @Projection('order-summary') class, or defineProjection('order-summary')…
 *       // A function: the store connects only when a command needs it, not when `schemas check` loads the file.
 *       store: () => new PostgresReadModelStore({ connectionString: process.env.DATABASE_URL, tables: ['order_summary'] }),
 *       batchSize: 200,
 *     },
 *   ],
 * });
 * ```
 * then `tributary projection run order-summary`, `tributary dlq list order-summary`.
 */
export interface ProjectionConfig<W = unknown> {
  /** An `@Projection` class (or an instance of one), or a `defineProjection(…)` definition. */
  readonly projection: ProjectionSource<W>;
  /**
   * Where its read model, offsets and dead letters live: a store, or a function
   * that opens one, called once by each command that needs it. The command
   * closes the store when it ends.
   */
  readonly store: ReadModelStore<W> | (() => ReadModelStore<W>);
  /** Most events handled in one transaction of the store. Defaults to 500. */
  readonly batchSize?: number;
  /** Partitions of one worker handled at the same time. Defaults to 1. */
  readonly concurrency?: number;
}

/** Types a configuration module's export; returns it unchanged. */
export function defineConfig(config: TributaryConfig): TributaryConfig {
  return config;
}
