import type { Schema } from 'avsc';
import { getAvroMetadataStorage } from './avro-metadata-storage';

/**
 * Declares the Avro schema of an `@Event` class's payload: a record schema, as
 * JSON. Each version of an event is its own class, so legacy versions keep
 * their schemas beside them and old events stay readable.
 *
 * The record's full name is what the registry subject is named after
 * (`<topic>-<full name>`); keep it the same across versions of one type, by
 * convention the event type's name. Only records metadata; the
 * {@link AvroSchemaCatalog} validates it.
 *
 * @example
 * ```ts
 * @Event('OrderCreated', { version: 1 })
 * @AvroSchema({ type: 'record', name: 'OrderCreated', namespace: 'shop',
 *   fields: [{ name: 'orderId', type: 'string' }] })
 * class OrderCreatedV1 { constructor(readonly orderId: string) {} }
 *
 * @Event('OrderCreated', { version: 2 })
 * @AvroSchema({ type: 'record', name: 'OrderCreated', namespace: 'shop',
 *   fields: [{ name: 'orderId', type: 'string' }, { name: 'currency', type: 'string', default: 'EUR' }] })
 * class OrderCreated { constructor(readonly orderId: string, readonly currency: string) {} }
 * ```
 */
export function AvroSchema(schema: Schema): ClassDecorator {
  return (target) => {
    getAvroMetadataStorage().addSchema({ target, schema });
  };
}
