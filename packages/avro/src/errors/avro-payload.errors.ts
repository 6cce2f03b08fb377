import { SerializationContext, TributaryError, describeRecord } from '@tributary/core';

/**
 * The base of the errors about one Avro payload, read or written. `context`
 * says where: topic, event type and version, and on reads partition and offset.
 */
export abstract class AvroPayloadError extends TributaryError {
  constructor(
    readonly context: SerializationContext,
    message: string,
    options: { code: string; retriable?: boolean; cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The bytes do not start with the Confluent wire format's magic byte 0 and a 4-byte schema id. */
export class MissingMagicByteError extends AvroPayloadError {
  static readonly code = 'AVRO_MISSING_MAGIC_BYTE';
  constructor(context: SerializationContext, bytes: Uint8Array) {
    const found = bytes.length === 0 ? 'no bytes' : bytes.length < 5 ? `only ${bytes.length} byte(s)` : `first byte ${bytes[0]}`;
    super(
      context,
      `The ${context.type} v${context.schemaVersion} payload at ${describeRecord(context)} is not in the Confluent ` +
        `wire format (magic byte 0, 4-byte schema id, Avro): found ${found}. Was it written by another serializer, ` +
        `e.g. JSON, or by Apicurio's own serdes with 8-byte ids?`,
      { code: MissingMagicByteError.code },
    );
  }
}

/** The schema id in the payload is not known to the registry. */
export class UnknownSchemaIdError extends AvroPayloadError {
  static readonly code = 'AVRO_UNKNOWN_SCHEMA_ID';
  constructor(
    context: SerializationContext,
    readonly schemaId: number,
    cause?: unknown,
  ) {
    super(
      context,
      `The ${context.type} v${context.schemaVersion} payload at ${describeRecord(context)} names schema id ${schemaId}, ` +
        `which the schema registry does not know. Check that this app reads from the registry the writer used.`,
      { code: UnknownSchemaIdError.code, cause },
    );
  }
}

/**
 * The registry failed while the writer's schema was fetched. Retriable when the
 * registry was unreachable (after the client's own retries): the record is
 * fine, the registry may come back.
 */
export class WriterSchemaUnavailableError extends AvroPayloadError {
  static readonly code = 'AVRO_WRITER_SCHEMA_UNAVAILABLE';
  constructor(
    context: SerializationContext,
    readonly schemaId: number,
    retriable: boolean,
    cause: unknown,
  ) {
    super(
      context,
      `Could not fetch writer schema ${schemaId} for the payload at ${describeRecord(context)}: ` +
        `${cause instanceof Error ? cause.message : String(cause)}`,
      { code: WriterSchemaUnavailableError.code, retriable, cause },
    );
  }
}

/** The writer's schema is not an Avro record of this event type (or not Avro at all). */
export class WriterSchemaMismatchError extends AvroPayloadError {
  static readonly code = 'AVRO_WRITER_SCHEMA_MISMATCH';
  constructor(context: SerializationContext, schemaId: number, problem: string, cause?: unknown) {
    super(
      context,
      `The payload at ${describeRecord(context)} says it is ${context.type} v${context.schemaVersion}, but its writer ` +
        `schema ${schemaId} ${problem}. The record's type header and its payload disagree.`,
      { code: WriterSchemaMismatchError.code, cause },
    );
  }
}

/** Avro cannot resolve the writer's schema to the reader version's schema. */
export class SchemaResolutionError extends AvroPayloadError {
  static readonly code = 'AVRO_SCHEMA_RESOLUTION_FAILED';
  constructor(
    context: SerializationContext,
    readonly schemaId: number,
    readonly readerVersion: number,
    cause: unknown,
  ) {
    super(
      context,
      `The ${context.type} payload at ${describeRecord(context)} (writer schema ${schemaId}) cannot be read as ` +
        `${context.type} v${readerVersion}: ${cause instanceof Error ? cause.message : String(cause)}. Give the new ` +
        `fields defaults, or register an upcaster from v${context.schemaVersion} so it is read with its own schema.`,
      { code: SchemaResolutionError.code, cause },
    );
  }
}

/** The Avro bytes do not decode under the writer's schema: truncated, trailing bytes, or garbage. */
export class CorruptAvroPayloadError extends AvroPayloadError {
  static readonly code = 'AVRO_CORRUPT_PAYLOAD';
  constructor(
    context: SerializationContext,
    readonly schemaId: number,
    cause: unknown,
  ) {
    super(
      context,
      `The ${context.type} v${context.schemaVersion} payload at ${describeRecord(context)} is not valid Avro for ` +
        `writer schema ${schemaId}: ${cause instanceof Error ? cause.message : String(cause)}`,
      { code: CorruptAvroPayloadError.code, cause },
    );
  }
}

/** No `@AvroSchema` is declared for the event type and version a payload is written or read as. */
export class NoAvroSchemaForVersionError extends AvroPayloadError {
  static readonly code = 'AVRO_NO_SCHEMA_FOR_VERSION';
  constructor(context: SerializationContext, version: number, declared: readonly number[]) {
    super(
      context,
      `No Avro schema is declared for ${context.type} v${version} (at ${describeRecord(context)}); ` +
        (declared.length === 0
          ? `no version of ${context.type} has one. Pass its @Event classes, decorated with @AvroSchema, to the AvroSerializer.`
          : `declared versions: ${declared.join(', ')}. Add the class of v${version} (legacy versions are classes too) ` +
            `with its @AvroSchema to the AvroSerializer's events.`),
      { code: NoAvroSchemaForVersionError.code },
    );
  }
}

/** A payload to write does not fit its Avro schema; `paths` names the fields. */
export class InvalidAvroPayloadError extends AvroPayloadError {
  static readonly code = 'AVRO_PAYLOAD_INVALID';
  constructor(
    context: SerializationContext,
    readonly paths: readonly string[],
  ) {
    super(
      context,
      `The ${context.type} v${context.schemaVersion} payload for ${describeRecord(context)} does not fit its Avro ` +
        `schema at ${paths.map((path) => path || '(record)').join(', ')}: a field is missing, has the wrong type, or ` +
        `is not declared in the schema. Make the event class and its @AvroSchema agree.`,
      { code: InvalidAvroPayloadError.code },
    );
  }
}

/** With `autoRegister: false`, the schema a payload would be written with is not in the registry. */
export class SchemaNotRegisteredError extends AvroPayloadError {
  static readonly code = 'AVRO_SCHEMA_NOT_REGISTERED';
  constructor(
    context: SerializationContext,
    readonly subject: string,
  ) {
    super(
      context,
      `The Avro schema of ${context.type} v${context.schemaVersion} is not registered under subject ${subject}. ` +
        `Register it (e.g. in the deployment pipeline) or create the AvroSerializer with autoRegister: true.`,
      { code: SchemaNotRegisteredError.code },
    );
  }
}

/**
 * A string in a payload to write holds a lone surrogate: half of a UTF-16
 * surrogate pair, which UTF-8, and so Avro, cannot encode. Written anyway, the
 * event could not be read back as it was applied; replaced with U+FFFD, a
 * replay would build other state than the command did. So the write is
 * refused, naming the field. Not retriable: the input must change.
 *
 * @example
 * ```ts
 * // Where input enters, e.g. when building the command:
 * const name = input.name.toWellFormed(); // Node 20+: U+FFFD for each lone surrogate
 * ```
 */
export class LoneSurrogateError extends AvroPayloadError {
  static readonly code = 'AVRO_LONE_SURROGATE';
  constructor(
    context: SerializationContext,
    /** Dot-separated path of the string, e.g. `customer.name`; for a map key, the path of the map. */
    readonly path: string,
    /** The map key holding the lone surrogate, when it is a key rather than a value. */
    readonly key: string | undefined,
    /** Index of the lone surrogate in the string. */
    readonly index: number,
    /** The lone surrogate's code unit, 0xD800–0xDFFF. */
    readonly codeUnit: number,
  ) {
    const unit = `\\u${codeUnit.toString(16).padStart(4, '0')}`;
    // JSON.stringify writes the lone surrogate as an escape, so the message itself stays well-formed.
    const where = key === undefined ? `the string at ${path || '(record)'}` : `the key ${JSON.stringify(key)} of ${path || '(record)'}`;
    super(
      context,
      `The ${context.type} v${context.schemaVersion} payload for ${describeRecord(context)} cannot be written: ${where} ` +
        `holds a lone surrogate (${unit}) at index ${index}, half of a UTF-16 character, which Avro's UTF-8 strings ` +
        `cannot carry. Validate or normalise the text where it enters the system, e.g. with str.toWellFormed() ` +
        `(Node 20+), which puts U+FFFD in its place.`,
      { code: LoneSurrogateError.code },
    );
  }
}
