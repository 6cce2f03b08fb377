import { AnyClass, DuplicateEventTypeError, UndeclaredEventError, getMetadataStorage } from '@tributary/core';
import type * as avsc from 'avsc';
import { getAvroMetadataStorage } from './avro-metadata-storage';
import { parseDeclaredSchema, schemaText, unsupportedTypes } from './avro-type';
import {
  AvroRecordNameConflictError,
  AvroRecordNameMismatchError,
  InvalidAvroSchemaError,
  MissingAvroSchemaDecoratorError,
} from './errors/avro-schema.errors';

/** One declared schema: an event type and version, its Avro record and the class that declares it. */
export interface AvroSchemaEntry {
  readonly type: string;
  readonly version: number;
  /** The record's full name (`namespace.name`), which names the registry subject. */
  readonly fullName: string;
  readonly schema: avsc.Type;
  readonly eventClass: AnyClass;
}

/** An entry with the exact text Tributary registers for it. */
interface CatalogEntry extends AvroSchemaEntry {
  readonly text: string;
}

/**
 * The Avro schemas of a set of event classes, by event type and version. Built
 * once at start-up from `@Event` (core's metadata) and `@AvroSchema` (this
 * package's), and checked then: every class has a record schema of supported
 * types, all versions of a type share one record name, no two types share one.
 *
 * @example
 * ```ts
 * const catalog = new AvroSchemaCatalog([OrderCreatedV1, OrderCreated, ItemAdded]);
 * catalog.versionsOf('OrderCreated'); // [1, 2]
 * catalog.schemaFor('OrderCreated', 1)?.toBuffer({ orderId: 'o-1' });
 * ```
 */
export class AvroSchemaCatalog {
  private readonly byType = new Map<string, Map<number, CatalogEntry>>();
  private readonly typeByFullName = new Map<string, string>();

  constructor(eventClasses: Iterable<AnyClass>) {
    for (const eventClass of eventClasses) this.add(eventClass);
  }

  /** The parsed schema declared for this type and version, if any. */
  schemaFor(type: string, version: number): avsc.Type | undefined {
    return this.entry(type, version)?.schema;
  }

  /** The Avro record full name of an event type, the same for all its versions. Throws for a type without schemas. */
  fullNameOf(type: string): string {
    const versions = this.byType.get(type);
    const first = versions?.values().next().value;
    if (!first) {
      throw new RangeError(`No Avro schema is declared for event type ${type}; known types: ${[...this.byType.keys()].join(', ') || 'none'}`);
    }
    return first.fullName;
  }

  /** The event type whose records have this Avro full name, if any: the reverse of {@link fullNameOf}. */
  typeOfFullName(fullName: string): string | undefined {
    return this.typeByFullName.get(fullName);
  }

  /** The versions of a type that declare a schema, ascending; [] for an unknown type. */
  versionsOf(type: string): number[] {
    return [...(this.byType.get(type)?.keys() ?? [])].sort((a, b) => a - b);
  }

  /** The highest declared version of a type, or undefined for an unknown type. */
  currentVersion(type: string): number | undefined {
    const versions = this.versionsOf(type);
    return versions.length === 0 ? undefined : versions[versions.length - 1];
  }

  /** Every declared schema, by type and then ascending version. */
  entries(): AvroSchemaEntry[] {
    return [...this.byType.keys()]
      .sort()
      .flatMap((type) => this.versionsOf(type).map((version) => this.entry(type, version)!))
      .map(({ type, version, fullName, schema, eventClass }) => ({ type, version, fullName, schema, eventClass }));
  }

  /** @internal The text registered for a type and version: the same in every process. */
  textFor(type: string, version: number): string | undefined {
    return this.entry(type, version)?.text;
  }

  private entry(type: string, version: number): CatalogEntry | undefined {
    return this.byType.get(type)?.get(version);
  }

  private add(eventClass: AnyClass): void {
    const event = getMetadataStorage().findEvent(eventClass);
    if (!event) throw new UndeclaredEventError(eventClass.name, 'AvroSchemaCatalog');
    const declared = getAvroMetadataStorage().findSchema(eventClass);
    if (!declared) throw new MissingAvroSchemaDecoratorError(eventClass.name, event.type, event.version);

    const versions = this.byType.get(event.type) ?? new Map<number, CatalogEntry>();
    const existing = versions.get(event.version);
    if (existing) {
      if (existing.eventClass === eventClass) return;
      throw new DuplicateEventTypeError(event.type, event.version, existing.eventClass.name, eventClass.name);
    }

    const schema = parse(eventClass, declared.schema);
    const fullName = schema.name!;
    const sibling = versions.values().next().value;
    if (sibling && sibling.fullName !== fullName) {
      throw new AvroRecordNameMismatchError(event.type, sibling, { version: event.version, fullName });
    }
    const owner = this.typeByFullName.get(fullName);
    if (owner !== undefined && owner !== event.type) throw new AvroRecordNameConflictError(fullName, owner, event.type);

    versions.set(event.version, { type: event.type, version: event.version, fullName, schema, eventClass, text: schemaText(schema) });
    this.byType.set(event.type, versions);
    this.typeByFullName.set(fullName, event.type);
  }
}

function parse(eventClass: AnyClass, declared: avsc.Schema): avsc.Type {
  let schema: avsc.Type;
  try {
    schema = parseDeclaredSchema(declared);
  } catch (error) {
    throw new InvalidAvroSchemaError(eventClass.name, `avsc cannot parse it: ${error instanceof Error ? error.message : String(error)}`, error);
  }
  if (schema.typeName !== 'record') {
    throw new InvalidAvroSchemaError(eventClass.name, `it is a ${schema.typeName}, but an event payload must be an Avro record`);
  }
  const unsupported = unsupportedTypes(schema);
  if (unsupported.length > 0) {
    throw new InvalidAvroSchemaError(
      eventClass.name,
      `${unsupported.join(', ')}: event payloads are JSON-safe data, which has no bytes; use a string (e.g. base64) instead`,
    );
  }
  return schema;
}
