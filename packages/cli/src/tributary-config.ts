import { AggregateRoot, AnyClass, Constructor, Serializer, Upcaster } from '@tributary/core';
import { CompatibilityLevel, SchemaRegistry } from '@tributary/avro';

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
  /** Kafka broker addresses, `host:port`, for `tributary replay`. Defaults to `KAFKA_BROKERS` (comma-separated). */
  readonly brokers?: readonly string[];
  /** Partitions of the app's topics, as given to the processors. Defaults to 6. */
  readonly partitions?: number;
  /** How the app writes event payloads, as given to the processors (e.g. an `AvroSerializer`). Defaults to JSON. */
  readonly serializer?: Serializer;
}

/** Types a configuration module's export; returns it unchanged. */
export function defineConfig(config: TributaryConfig): TributaryConfig {
  return config;
}
