import type { AnyClass } from '@tributary/core';
import type { Schema } from 'avsc';

/** What `@AvroSchema` recorded on one class. */
export interface AvroSchemaMetadata {
  readonly target: AnyClass;
  readonly schema: Schema;
}

/**
 * Where `@AvroSchema` writes. The decorator only records; {@link AvroSchemaCatalog}
 * reads, parses and validates at start-up, so a bad schema fails there with the
 * class named, not at import time.
 */
export class AvroMetadataStorage {
  private readonly schemas = new Map<AnyClass, AvroSchemaMetadata>();

  addSchema(metadata: AvroSchemaMetadata): void {
    this.schemas.set(metadata.target, metadata);
  }

  /** The schema declared on exactly this class: like `@Event`, it is never inherited, since a subclass is another event. */
  findSchema(target: AnyClass): AvroSchemaMetadata | undefined {
    return this.schemas.get(target);
  }

  /** Forgets everything recorded. For tests that declare classes on the fly. */
  clear(): void {
    this.schemas.clear();
  }
}

// Two installed copies of @tributary/avro must share one storage, or schemas
// declared through one copy would be invisible to the other.
const STORAGE_KEY = Symbol.for('@tributary/avro:metadata-storage');

/** The process-wide storage of `@AvroSchema` declarations. */
export function getAvroMetadataStorage(): AvroMetadataStorage {
  const holder = globalThis as { [STORAGE_KEY]?: AvroMetadataStorage };
  return (holder[STORAGE_KEY] ??= new AvroMetadataStorage());
}
