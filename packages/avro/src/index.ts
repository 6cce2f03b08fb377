/**
 * @tributary/avro: Avro payloads for Tributary.
 *
 * - `@AvroSchema(schema)` declares the Avro record of an `@Event` class, one
 *   class per version, legacy versions included.
 * - {@link AvroSerializer} writes the Confluent wire format (magic byte 0,
 *   4-byte schema id, Avro) and reads old events by resolving the writer's
 *   schema to the reader version's.
 * - {@link ConfluentSchemaRegistry} talks to a Confluent-compatible registry
 *   (Confluent, Apicurio's `/apis/ccompat/v7`); {@link InMemorySchemaRegistry}
 *   stands in for it in tests.
 * - {@link schemaCompatibilityIssues} names the field and rule a schema change
 *   breaks, which registries do not.
 *
 * @example
 * ```ts
 * @Event('OrderCreated', { version: 2 })
 * @AvroSchema({ type: 'record', name: 'OrderCreated', namespace: 'shop', fields: [
 *   { name: 'orderId', type: 'string' },
 *   { name: 'currency', type: 'string', default: 'EUR' },
 * ] })
 * class OrderCreated { constructor(readonly orderId: string, readonly currency: string) {} }
 *
 * const serializer = new AvroSerializer({
 *   registry: new ConfluentSchemaRegistry({ url: process.env.SCHEMA_REGISTRY_URL! }),
 *   events: [OrderCreatedV1, OrderCreated],
 * });
 * ```
 */
export { AvroSchema } from './avro-schema.decorator';
export { AvroMetadataStorage, getAvroMetadataStorage } from './avro-metadata-storage';
export type { AvroSchemaMetadata } from './avro-metadata-storage';
export { AvroSchemaCatalog } from './avro-schema-catalog';
export type { AvroSchemaEntry } from './avro-schema-catalog';
export { subjectFor } from './subject-name';
export { COMPATIBILITY_LEVELS, DEFAULT_COMPATIBILITY_LEVEL, isCompatibilityLevel } from './compatibility-level';
export type { CompatibilityLevel } from './compatibility-level';
export type { RegisteredSchema, SchemaRegistry } from './schema-registry';
export { ConfluentSchemaRegistry } from './confluent-schema-registry';
export type { ConfluentSchemaRegistryOptions } from './confluent-schema-registry';
export { InMemorySchemaRegistry } from './in-memory-schema-registry';
export type { InMemorySchemaRegistryOptions } from './in-memory-schema-registry';
export { COMPATIBILITY_RULES, schemaCompatibilityIssues } from './schema-compatibility';
export type { CompatibilityIssue } from './schema-compatibility';
export { AvroSerializer } from './avro-serializer';
export type { AvroSerializerOptions } from './avro-serializer';
export { SchemaGate } from './schema-gate';
export type { EventTopic, SchemaCheckReport, SchemaFinding, SchemaGateOptions, SchemaRegistration } from './schema-gate';
export { EventSchemaGapError, IncompatibleEventSchemaError } from './errors/schema-gate.errors';

export {
  CompatibilityLevelConflictError,
  IncompatibleSchemaError,
  InvalidSchemaError,
  SchemaIdNotFoundError,
  SchemaRegistryRequestError,
  SchemaRegistryUnavailableError,
  SchemaVersionNotFoundError,
} from './errors/schema-registry.errors';
export {
  AvroRecordNameConflictError,
  AvroRecordNameMismatchError,
  InvalidAvroSchemaError,
  MissingAvroSchemaDecoratorError,
} from './errors/avro-schema.errors';
export {
  AvroPayloadError,
  CorruptAvroPayloadError,
  InvalidAvroPayloadError,
  LoneSurrogateError,
  MissingMagicByteError,
  NoAvroSchemaForVersionError,
  SchemaNotRegisteredError,
  SchemaResolutionError,
  UnknownSchemaIdError,
  WriterSchemaMismatchError,
  WriterSchemaUnavailableError,
} from './errors/avro-payload.errors';
