import { EventData } from '../events/event-envelope';
import { AnyClass } from '../metadata/metadata-storage';

/** What a serializer knows about the payload it converts. */
export interface SerializationContext {
  /** Where the bytes are written or were read, e.g. a Kafka topic. */
  readonly topic: string;
  /** Persisted event type and schema version, from `@Event`: the version the payload was written as. */
  readonly type: string;
  readonly schemaVersion: number;
  /** On reads from a partitioned log: where the record sits, for error messages. */
  readonly partition?: number;
  /** On reads from a partitioned log: the record's offset, as a decimal string. */
  readonly offset?: string;
  /**
   * On reads: the schema version of `type` whose shape the caller wants back.
   * A serializer with schema resolution (Avro) resolves the writer's schema to
   * this version's; one without (JSON) returns the payload as written. The
   * upcasting pipeline sets it: the written version itself when an upcaster
   * starts there, otherwise the next version that has one, or the current.
   * Unset: the version written.
   */
  readonly readerVersion?: number;
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
  /**
   * Optional start-up check, called once by the components that write and read
   * events (command processors, event stores) before they take work: a
   * serializer backed by a schema registry checks there that every version the
   * registry holds can still be read into today's classes, and fails fast
   * naming the gap.
   */
  prepare?(usage: SerializerUsage): Promise<void>;
}

/** What {@link Serializer.prepare} is told: the events topics a component uses, and what it writes to each today. */
export interface SerializerUsage {
  readonly topics: ReadonlyArray<{ readonly topic: string; readonly eventClasses: readonly AnyClass[] }>;
}

/**
 * Names where a payload was read, for error messages: `topic shop.Order.events,
 * partition 2, offset 41`, or just the topic when partition and offset are unknown.
 */
export function describeRecord(context: Pick<SerializationContext, 'topic' | 'partition' | 'offset'>): string {
  const parts = [`topic ${context.topic}`];
  if (context.partition !== undefined) parts.push(`partition ${context.partition}`);
  if (context.offset !== undefined) parts.push(`offset ${context.offset}`);
  return parts.join(', ');
}
