import { EventEnvelope, EventPipeline } from '@tributary/core';
import { HEADER, envelopeFromHeaders, readHeader } from '@tributary/kafka';
import { KafkaMessage } from 'kafkajs';
import { ErasedAggregate } from './projection-handler';

/** A record of an events topic, read for a projection. */
export type DecodedRecord =
  | { readonly kind: 'events'; readonly message: KafkaMessage; readonly aggregate: string; readonly events: readonly { event: object; envelope: EventEnvelope<object> }[] }
  | { readonly kind: 'erasure'; readonly message: KafkaMessage; readonly aggregate: string; readonly erased: ErasedAggregate }
  /** Could not be decoded or upcast: a poison event. */
  | { readonly kind: 'unreadable'; readonly message: KafkaMessage; readonly aggregate: string; readonly error: unknown };

/**
 * Turns records of events topics into what projection handlers get, through
 * the one {@link EventPipeline}: current-version instances with their envelopes.
 * Never throws: a record it cannot read comes back `unreadable`, with the error.
 */
export class RecordDecoder {
  constructor(
    private readonly pipeline: EventPipeline,
    /** The aggregate type of each events topic, for tombstones, which carry no headers. */
    private readonly aggregateTypes: ReadonlyMap<string, string>,
  ) {}

  async decode(topic: string, partition: number, message: KafkaMessage): Promise<DecodedRecord> {
    const aggregateType = readHeader(message.headers, HEADER.aggregateType) ?? this.aggregateTypes.get(topic) ?? '?';
    const key = message.key?.toString('utf8') ?? '';
    const separator = key.lastIndexOf(':');
    const aggregateId = readHeader(message.headers, HEADER.aggregateId) ?? (separator > 0 ? key.slice(0, separator) : undefined);
    // Without an id nothing else can be parked behind it; the offset keeps it alone.
    const aggregate = aggregateId === undefined ? `?:${topic}:${partition}:${message.offset}` : `${aggregateType}:${aggregateId}`;
    if (message.value === null) {
      if (aggregateId === undefined) return { kind: 'unreadable', message, aggregate, error: new Error(`tombstone key ${JSON.stringify(key)} is not '<aggregateId>:<sequence>'`) };
      return { kind: 'erasure', message, aggregate, erased: { aggregateType, aggregateId } };
    }
    try {
      const type = readHeader(message.headers, HEADER.type);
      const schemaVersion = Number(readHeader(message.headers, HEADER.schemaVersion));
      if (type === undefined || !Number.isInteger(schemaVersion)) throw new Error(`the record lacks the headers ${HEADER.type} and ${HEADER.schemaVersion}`);
      const records = await this.pipeline.decode(message.value, { topic, partition, offset: message.offset, type, schemaVersion });
      const base = envelopeFromHeaders(message.headers, {});
      const events = records.map((record) => {
        const event = this.pipeline.toInstance(record, { topic, partition, offset: message.offset });
        return { event, envelope: { ...base, type: record.type, schemaVersion: record.schemaVersion, payload: event } };
      });
      return { kind: 'events', message, aggregate, events };
    } catch (error) {
      return { kind: 'unreadable', message, aggregate, error };
    }
  }
}
