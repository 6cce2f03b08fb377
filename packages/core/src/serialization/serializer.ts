import { EventData } from '../events/event-envelope';

/** What a serializer knows about the payload it converts. */
export interface SerializationContext {
  /** Where the bytes are written or were read, e.g. a Kafka topic. */
  readonly topic: string;
  /** Persisted event type and schema version, from `@Event`. */
  readonly type: string;
  readonly schemaVersion: number;
}

/**
 * Turns event payloads into bytes and back. The seam between the event model and
 * a wire format: JSON by default, Avro with a schema registry where one is wanted.
 */
export interface Serializer {
  /** A MIME-like name of the format, written beside each payload, e.g. `application/json`. */
  readonly contentType: string;
  serialize(payload: EventData, context: SerializationContext): Promise<Uint8Array> | Uint8Array;
  deserialize(bytes: Uint8Array, context: SerializationContext): Promise<EventData> | EventData;
}
