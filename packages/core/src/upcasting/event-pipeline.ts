import { EventRegistry } from '../events/event-registry';
import { JsonSerializer } from '../serialization/json-serializer';
import { SerializationContext, Serializer, describeRecord } from '../serialization/serializer';
import { EventRecord, Upcaster } from './upcaster';
import { UpcasterChain } from './upcaster-chain';

/** Options of {@link EventPipeline}. */
export interface EventPipelineOptions {
  /** The event classes events end up as. */
  readonly registry: EventRegistry;
  /** Upcasters for what schema resolution cannot do. Defaults to none. */
  readonly upcasters?: Iterable<Upcaster>;
  /** Decodes payloads in {@link EventPipeline.decode}. Defaults to a {@link JsonSerializer}. */
  readonly serializer?: Serializer;
}

/**
 * Where a record was read, for error messages: a {@link SerializationContext}
 * (`topic …, partition …, offset …`), or words such as `Loading Order 'o-1' (event 3)`.
 */
export type RecordOrigin = string | Pick<SerializationContext, 'topic' | 'partition' | 'offset'>;

/**
 * The one way stored events are read, by rehydration, projections and sagas
 * alike: decode → resolve → upcast → apply.
 *
 * - decode and resolve: the serializer reads the bytes at the reader version
 *   ({@link UpcasterChain.readerVersion}), resolving the writer's schema to it
 *   where it can (Avro);
 * - upcast: the {@link UpcasterChain} turns the record into current records;
 * - apply: {@link EventPipeline.toInstance} makes each one an instance of its class.
 *
 * Every error names where the event was read. Building one validates the
 * upcasters and fails fast (see {@link UpcasterChain}).
 *
 * @example
 * ```ts
 * const pipeline = new EventPipeline({ registry: bus.eventRegistry, upcasters: [renameCustomer], serializer });
 * const records = await pipeline.decode(message.value, { topic, partition, offset: message.offset, type, schemaVersion });
 * const events = records.map((record) => pipeline.toInstance(record));
 * ```
 */
export class EventPipeline {
  readonly registry: EventRegistry;
  readonly chain: UpcasterChain;
  readonly serializer: Serializer;

  constructor(options: EventPipelineOptions) {
    this.registry = options.registry;
    this.chain = new UpcasterChain(options.upcasters ?? [], options.registry);
    this.serializer = options.serializer ?? new JsonSerializer();
  }

  /**
   * Decodes the bytes of one stored event, written as `context.type`
   * v`context.schemaVersion`, and upcasts it to current records.
   *
   * @returns the current records: usually one, several after a split, none after a drop.
   */
  async decode(bytes: Uint8Array, context: SerializationContext): Promise<EventRecord[]> {
    const where = () => whereOf(context)!;
    // Before decoding: an event with no path fails as itself, not as whatever the decoder makes of it.
    const readerVersion = this.chain.readerVersion(context.type, context.schemaVersion, where);
    // A literal of one shape, not a spread: this runs for every record of a replay.
    const decoded = this.serializer.deserialize(bytes, {
      topic: context.topic,
      partition: context.partition,
      offset: context.offset,
      type: context.type,
      schemaVersion: context.schemaVersion,
      readerVersion,
    });
    // Serializers answer synchronously when they can; awaiting a plain value would still cost a turn.
    const payload = decoded instanceof Promise ? await decoded : decoded;
    return this.chain.upcast({ type: context.type, schemaVersion: readerVersion, payload }, where);
  }

  /** Upcasts a record already decoded, e.g. one read through an {@link EventStore}, to current records. */
  upcastRecord(record: EventRecord, origin?: RecordOrigin): EventRecord[] {
    return this.chain.upcast(record, whereOf(origin));
  }

  /**
   * A record as an instance of the class registered for its type and version.
   * @throws {@link UnknownEventTypeError} if none is.
   */
  toInstance(record: EventRecord, origin?: RecordOrigin): object {
    return this.registry.fromData(record.type, record.schemaVersion, record.payload, whereOf(origin) ?? 'Reading an event');
  }

  /** Upcasts a stored record and makes each resulting record an instance: what appliers and handlers get. */
  instantiate(record: EventRecord, origin?: RecordOrigin): object[] {
    return this.upcastRecord(record, origin).map((current) => this.toInstance(current, origin));
  }
}

function whereOf(origin: RecordOrigin | undefined): string | undefined {
  if (origin === undefined) return undefined;
  return typeof origin === 'string' ? origin : `Reading ${describeRecord(origin)}`;
}
