import { AnyClass, EventData, RetriesExhaustedError, SerializationContext, Serializer, SerializerUsage, Upcaster } from '@tributary/core';
import type * as avsc from 'avsc';
import { checkAvroBinary } from './avro-binary-check';
import { AvroSchemaCatalog } from './avro-schema-catalog';
import { longsOutOfRange, parseAvroType, schemaText, toPlainValue } from './avro-type';
import { CompatibilityLevel, DEFAULT_COMPATIBILITY_LEVEL, checkCompatibilityLevel } from './compatibility-level';
import { SchemaGate } from './schema-gate';
import { SchemaRegistry } from './schema-registry';
import { subjectFor } from './subject-name';
import { findLoneSurrogate, hasLoneSurrogate } from './lone-surrogate';
import { frame, unframe } from './wire-format';
import {
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
import { SchemaIdNotFoundError, SchemaRegistryUnavailableError } from './errors/schema-registry.errors';

/** Options of {@link AvroSerializer}. */
export interface AvroSerializerOptions {
  readonly registry: SchemaRegistry;
  /** Every `@Event` class with an `@AvroSchema`, legacy versions included: reading old events needs their schemas. */
  readonly events: Iterable<AnyClass>;
  /** Set on each subject before its first registration. Defaults to BACKWARD_TRANSITIVE: all history stays readable. */
  readonly compatibility?: CompatibilityLevel;
  /**
   * Register a schema on the first write of its (topic, type, version). Defaults
   * to true. With false, schemas must be registered beforehand (e.g. by the
   * deployment pipeline) and a missing one fails the write.
   */
  readonly autoRegister?: boolean;
  /**
   * The upcasters readers run, for the start-up check ({@link AvroSerializer.prepare}):
   * a version in the registry is readable if resolution, or upcasters, carry it to
   * a class applied today.
   */
  readonly upcasters?: Iterable<Upcaster>;
  /** Run the start-up check of {@link AvroSerializer.prepare}. Defaults to true. */
  readonly verifyOnStart?: boolean;
}

/** A writer schema from the registry, parsed, with its text to spot a reader that is the same schema. */
interface WriterSchema {
  readonly type: avsc.Type;
  readonly text: string;
}

/** How to read one writer schema as one reader version: the reader type and avsc's resolver (none when the schemas are equal). */
interface ReadPlan {
  readonly writer: avsc.Type;
  readonly reader: avsc.Type;
  readonly resolver: avsc.Resolver | undefined;
}

/**
 * Event payloads as Avro in the Confluent wire format (magic byte 0, 4-byte
 * schema id, Avro binary), with schemas in a registry under
 * TopicRecordNameStrategy subjects (`<topic>-<record full name>`).
 *
 * Writes use the schema declared for the event's (type, version). Reads take
 * the writer's schema from the registry by the id in the payload and resolve
 * it to the schema of `context.readerVersion` (default: the version written),
 * so an old event reads in a newer shape when Avro can bridge the two. Schema
 * ids, writer schemas and resolvers are cached: decoding never calls the
 * registry per record, only once per unseen schema id.
 *
 * Payloads are plain JSON-safe data both ways. Supported Avro types: null,
 * boolean, int, long (within ±2^52), float and double (finite; -0 reads as 0),
 * string, enum (the symbol), array, map and record (plain objects), unions
 * (`{ "<branch>": value }` only where JSON cannot tell the branches apart), and
 * timestamp-millis as an ISO-8601 string (a Date is accepted on writes), which
 * class-transformer's `@Type(() => Date)` turns back into a Date. Not
 * supported: bytes and fixed. Other logical types read as their underlying type.
 *
 * Strings must be well-formed Unicode: one with a lone surrogate (half a UTF-16
 * pair, which UTF-8 cannot encode) is refused on write with
 * {@link LoneSurrogateError} naming the field, rather than stored in a form
 * that would not read back as written.
 *
 * Every failure to read names the topic, partition and offset: a missing magic
 * byte, corrupt or trailing bytes, an unknown schema id, a registry that is
 * down (retried first), a type or version with no declared schema.
 *
 * @example
 * ```ts
 * const serializer = new AvroSerializer({
 *   registry: new ConfluentSchemaRegistry({ url: process.env.SCHEMA_REGISTRY_URL! }),
 *   events: [OrderCreatedV1, OrderCreated, ItemAdded],
 * });
 * const store = new KafkaEventStore({ ...options, serializer });
 * ```
 */
export class AvroSerializer implements Serializer {
  readonly contentType = 'application/vnd.tributary.avro';
  /** The declared schemas, by event type and version. */
  readonly catalog: AvroSchemaCatalog;

  private readonly registry: SchemaRegistry;
  private readonly compatibility: CompatibilityLevel;
  private readonly autoRegister: boolean;
  private readonly events: readonly AnyClass[];
  private readonly upcasters: readonly Upcaster[];
  private readonly verifyOnStart: boolean;
  private readonly schemaIds = new Map<string, Promise<number>>();
  private readonly writerSchemas = new Map<number, Promise<WriterSchema>>();
  private readonly readPlans = new Map<string, ReadPlan>();

  constructor(options: AvroSerializerOptions) {
    this.registry = options.registry;
    this.catalog = new AvroSchemaCatalog(options.events);
    this.compatibility = checkCompatibilityLevel(options.compatibility ?? DEFAULT_COMPATIBILITY_LEVEL, 'compatibility');
    this.autoRegister = options.autoRegister ?? true;
    this.events = [...options.events];
    this.upcasters = [...(options.upcasters ?? [])];
    this.verifyOnStart = options.verifyOnStart ?? true;
  }

  /**
   * The start-up check, called by command processors and event stores with the
   * events topics they use: every schema version in the registry under those
   * topics must have a path, by Avro resolution or upcasters, to an event class
   * applied today.
   * @throws {@link EventSchemaGapError} naming each version without one.
   */
  async prepare(usage: SerializerUsage): Promise<void> {
    if (!this.verifyOnStart) return;
    const events = new Set([...this.events, ...usage.topics.flatMap((topic) => topic.eventClasses)]);
    await new SchemaGate({ registry: this.registry, events, topics: usage.topics, upcasters: this.upcasters, compatibility: this.compatibility }).verify();
  }

  async serialize(payload: EventData, context: SerializationContext): Promise<Uint8Array> {
    const schema = this.declaredSchema(context, context.schemaVersion);
    const paths = invalidPaths(schema, payload);
    if (paths.length > 0) throw new InvalidAvroPayloadError(context, paths);
    if (hasLoneSurrogate(payload)) {
      const found = findLoneSurrogate(payload)!;
      throw new LoneSurrogateError(context, found.path, found.key, found.index, found.codeUnit);
    }
    const schemaId = await this.schemaIdFor(context);
    return frame(schemaId, schema.toBuffer(payload));
  }

  /**
   * Synchronous once the writer schema and resolver are cached, which is every
   * record but the first of each schema: a replay pays no promise per record.
   * Failures are rejections either way.
   */
  deserialize(bytes: Uint8Array, context: SerializationContext): EventData | Promise<EventData> {
    const framed = unframe(bytes);
    if (!framed) return Promise.reject(new MissingMagicByteError(context, bytes));
    const readerVersion = context.readerVersion ?? context.schemaVersion;
    const plan = this.readPlans.get(planKey(framed.schemaId, context.type, readerVersion));
    if (plan) {
      try {
        return decodeWith(plan, framed.avro);
      } catch (error) {
        return Promise.reject(new CorruptAvroPayloadError(context, framed.schemaId, error));
      }
    }
    return this.readPlan(framed.schemaId, readerVersion, context).then((fetched) => {
      try {
        return decodeWith(fetched, framed.avro);
      } catch (error) {
        throw new CorruptAvroPayloadError(context, framed.schemaId, error);
      }
    });
  }

  /** The registry id for the context's (topic, type, version), registering the schema on first use. Cached; a failure is not. */
  private schemaIdFor(context: SerializationContext): Promise<number> {
    const key = `${context.topic}\u0000${context.type}\u0000${context.schemaVersion}`;
    let id = this.schemaIds.get(key);
    if (!id) {
      id = this.resolveSchemaId(context);
      this.schemaIds.set(key, id);
      id.catch(() => this.schemaIds.delete(key));
    }
    return id;
  }

  private async resolveSchemaId(context: SerializationContext): Promise<number> {
    const subject = subjectFor(context.topic, this.catalog.fullNameOf(context.type));
    const text = this.catalog.textFor(context.type, context.schemaVersion)!;
    const known = await this.registry.lookup(subject, text);
    if (known) return known.id;
    if (!this.autoRegister) throw new SchemaNotRegisteredError(context, subject);
    // The level must be in place before the first version, or that version and the next would be checked under the registry's default.
    // Other processes may be doing the same at this moment: the registry client makes both steps idempotent.
    if ((await this.registry.versions(subject)).length === 0) await this.registry.setCompatibility(subject, this.compatibility);
    return (await this.registry.register(subject, text)).id;
  }

  private async readPlan(schemaId: number, readerVersion: number, context: SerializationContext): Promise<ReadPlan> {
    const key = planKey(schemaId, context.type, readerVersion);
    const cached = this.readPlans.get(key);
    if (cached) return cached;

    const reader = this.declaredSchema(context, readerVersion);
    const writer = await this.writerSchema(schemaId, context);
    if (writer.type.typeName !== 'record') {
      throw new WriterSchemaMismatchError(context, schemaId, `is a ${writer.type.typeName}, not an Avro record`);
    }
    if (writer.type.name !== reader.name && !(reader.aliases ?? []).includes(writer.type.name!)) {
      throw new WriterSchemaMismatchError(context, schemaId, `is record ${writer.type.name}, but ${context.type} is record ${reader.name}`);
    }
    let resolver: avsc.Resolver | undefined;
    if (writer.text !== schemaText(reader)) {
      try {
        resolver = reader.createResolver(writer.type);
      } catch (error) {
        throw new SchemaResolutionError(context, schemaId, readerVersion, error);
      }
    }
    const plan = { writer: writer.type, reader, resolver };
    this.readPlans.set(key, plan);
    return plan;
  }

  private async writerSchema(schemaId: number, context: SerializationContext): Promise<WriterSchema> {
    // Ids are positive in Confluent and Apicurio alike; anything else is corruption, not a question for the registry.
    if (schemaId <= 0) throw new UnknownSchemaIdError(context, schemaId);
    let fetched = this.writerSchemas.get(schemaId);
    if (!fetched) {
      fetched = this.registry.schemaById(schemaId).then(parseWriterSchema);
      this.writerSchemas.set(schemaId, fetched);
      // Registry failures are not cached: it may come back, or the id may be registered later.
      // A schema that does not parse stays cached: it will not parse next time either.
      fetched.catch((error: unknown) => {
        if (!(error instanceof UnparsableWriterSchema)) this.writerSchemas.delete(schemaId);
      });
    }
    try {
      return await fetched;
    } catch (error) {
      if (error instanceof SchemaIdNotFoundError) throw new UnknownSchemaIdError(context, schemaId, error);
      if (error instanceof UnparsableWriterSchema) {
        throw new WriterSchemaMismatchError(context, schemaId, `cannot be parsed as Avro (${error.message})`, error.cause);
      }
      throw new WriterSchemaUnavailableError(context, schemaId, isRegistryDown(error), error);
    }
  }

  private declaredSchema(context: SerializationContext, version: number): avsc.Type {
    const schema = this.catalog.schemaFor(context.type, version);
    if (!schema) throw new NoAvroSchemaForVersionError(context, version, this.catalog.versionsOf(context.type));
    return schema;
  }
}

/** Field paths where a payload breaks its schema, undeclared fields included (they would be dropped silently). */
function invalidPaths(schema: avsc.Type, payload: EventData): string[] {
  const paths: string[] = [];
  const declared = new Set((schema as avsc.types.RecordType).fields.map((field) => field.name));
  for (const key of Object.keys(payload)) if (!declared.has(key)) paths.push(`${key} (not in the schema)`);
  const valid = schema.isValid(payload, { errorHook: (path) => paths.push(path.join('.')) });
  if (valid) paths.push(...longsOutOfRange(schema, payload).map((path) => `${path} (a long beyond ±2^52)`));
  return [...new Set(paths)];
}

/** The registry's text for an id is not an Avro schema avsc can parse (e.g. a JSON Schema or Protobuf id). */
class UnparsableWriterSchema extends Error {}

function parseWriterSchema(text: string): WriterSchema {
  let type: avsc.Type;
  try {
    type = parseAvroType(text);
  } catch (error) {
    throw new UnparsableWriterSchema(error instanceof Error ? error.message : String(error), { cause: error });
  }
  return { type, text: schemaText(type) };
}

/** The registry was unreachable to the end of the client's retries: the record may read fine later. */
function isRegistryDown(error: unknown): boolean {
  const last = error instanceof RetriesExhaustedError ? error.cause : error;
  return last instanceof SchemaRegistryUnavailableError;
}

function planKey(schemaId: number, type: string, readerVersion: number): string {
  return `${schemaId}\u0000${type}\u0000${readerVersion}`;
}

/** Checks the bytes against the writer's schema (avsc trusts them too much), then decodes and resolves them to plain data. */
function decodeWith(plan: ReadPlan, avro: Buffer): EventData {
  checkAvroBinary(plan.writer, avro);
  return toPlainValue(plan.reader, plan.reader.fromBuffer(avro, plan.resolver)) as EventData;
}
