import { CompatibilityLevel } from './compatibility-level';

/** A schema's place in the registry: its global id and its version within one subject. */
export interface RegisteredSchema {
  /** The id written into every payload (Confluent wire format); one id per distinct schema text, shared across subjects. */
  readonly id: number;
  readonly version: number;
}

/**
 * The schema registry operations Tributary uses, after Confluent's REST API.
 * Schemas travel as their JSON text. Failures are typed: `SchemaIdNotFoundError`,
 * `SchemaVersionNotFoundError`, `IncompatibleSchemaError`, `InvalidSchemaError`,
 * `CompatibilityLevelConflictError`, and the retriable `SchemaRegistryUnavailableError`.
 *
 * `register` and `setCompatibility` must be idempotent under concurrency: many
 * processes write the first events of a new type at once, and each registers
 * the schema and sets the subject's level.
 *
 * Implementations: {@link ConfluentSchemaRegistry} (a Confluent-compatible
 * registry over HTTP, e.g. Apicurio's `/apis/ccompat/v7`) and
 * {@link InMemorySchemaRegistry} (tests). Both pass one contract suite.
 */
export interface SchemaRegistry {
  /**
   * Registers a schema under a subject, or returns the version it already has
   * there. Refused with `IncompatibleSchemaError` when it breaks the subject's
   * compatibility level.
   */
  register(subject: string, schema: string): Promise<RegisteredSchema>;
  /** The schema text with this id; `SchemaIdNotFoundError` when there is none. */
  schemaById(id: number): Promise<string>;
  /** Every subject with at least one version. */
  subjects(): Promise<string[]>;
  /** A subject's versions, ascending; [] when the subject does not exist. */
  versions(subject: string): Promise<number[]>;
  /** One version of a subject; `SchemaVersionNotFoundError` when it does not exist. */
  schemaByVersion(subject: string, version: number): Promise<RegisteredSchema & { readonly schema: string }>;
  /** Where this exact schema text is registered under the subject, or undefined. */
  lookup(subject: string, schema: string): Promise<RegisteredSchema | undefined>;
  /** The subject's compatibility level, or undefined when the subject neither exists nor has one set. */
  getCompatibility(subject: string): Promise<CompatibilityLevel | undefined>;
  /**
   * Sets a subject's compatibility level; works before the subject's first
   * registration. Setting the level the subject already has succeeds, however
   * many clients do it at once; `CompatibilityLevelConflictError` when another
   * client set a different level at the same moment.
   */
  setCompatibility(subject: string, level: CompatibilityLevel): Promise<void>;
  /** Whether `register` would accept the schema under the subject's compatibility level. */
  testCompatibility(subject: string, schema: string): Promise<boolean>;
}
