import { ConfigurationError } from '@tributary/core';

/** An `@Event` class given to the Avro catalog has no `@AvroSchema`. */
export class MissingAvroSchemaDecoratorError extends ConfigurationError {
  static readonly code = 'MISSING_AVRO_SCHEMA_DECORATOR';
  constructor(className: string, type: string, version: number) {
    super(
      `${className} (event ${type} v${version}) has no Avro schema; decorate it with @AvroSchema({ type: 'record', ` +
        `name: '${type}', fields: [...] }), or leave it out of the events given to the AvroSerializer`,
      MissingAvroSchemaDecoratorError.code,
    );
  }
}

/** The schema given to `@AvroSchema` is not one Tributary can use. */
export class InvalidAvroSchemaError extends ConfigurationError {
  static readonly code = 'INVALID_AVRO_SCHEMA';
  constructor(className: string, reason: string, cause?: unknown) {
    super(`The @AvroSchema of ${className} cannot be used: ${reason}`, InvalidAvroSchemaError.code, cause);
  }
}

/**
 * Versions of one event type declare records with different full names. All
 * versions of a type share one registry subject (`<topic>-<full name>`) and
 * Avro resolves only between records of the same name, so the name must stay.
 */
export class AvroRecordNameMismatchError extends ConfigurationError {
  static readonly code = 'AVRO_RECORD_NAME_MISMATCH';
  constructor(type: string, first: { version: number; fullName: string }, second: { version: number; fullName: string }) {
    super(
      `Event ${type} v${first.version} declares Avro record ${first.fullName} but v${second.version} declares ` +
        `${second.fullName}; every version of one event type must keep one record name (use Avro aliases to read ` +
        `an old name), or declare the renamed event as a new type with an upcaster`,
      AvroRecordNameMismatchError.code,
    );
  }
}

/** Two event types declare the same Avro record full name, which would put both in one subject. */
export class AvroRecordNameConflictError extends ConfigurationError {
  static readonly code = 'AVRO_RECORD_NAME_CONFLICT';
  constructor(fullName: string, firstType: string, secondType: string) {
    super(
      `Event types ${firstType} and ${secondType} both declare Avro record ${fullName}; give each event type its own ` +
        `record name (by convention the event type's name), since the record name picks the registry subject`,
      AvroRecordNameConflictError.code,
    );
  }
}
