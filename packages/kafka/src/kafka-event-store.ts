import {
  AggregateNotFoundError,
  EventData,
  EventEnvelope,
  EventStore,
  InvalidOptionError,
  JsonSerializer,
  NewEvent,
  ReadAllOptions,
  ReadStreamOptions,
  Serializer,
  StoredEvent,
  StreamId,
  Upcaster,
  UpcasterChain,
} from '@tributary/core';
import { randomUUID } from 'node:crypto';
import { Admin, Kafka, KafkaMessage, logLevel } from 'kafkajs';
import { KafkaCommandBus, KafkaCommandBusOptions } from './kafka-command-bus';
import { partitionForKey } from './murmur2';
import { readPartition } from './partition-reader';
import { HEADER, envelopeFromHeaders, readHeader } from './record-headers';
import { connectAdmin } from './topic-provisioner';

/** Options of {@link KafkaEventStore}. */
export interface KafkaEventStoreOptions extends KafkaCommandBusOptions {
  /** Plain stream types this store appends to; the processors must list them in their `streams` too. */
  readonly streams?: readonly string[];
  /** Bound on one read of a partition. Defaults to 30 000 ms. */
  readonly readTimeoutMs?: number;
  /**
   * The upcasters readers will run on what this store returns. They pick the
   * version each payload is read as (see `UpcasterChain.readerVersion`), so a
   * serializer with schema resolution (Avro) fills added fields with their
   * schema defaults on the way out.
   */
  readonly upcasters?: Iterable<Upcaster>;
}

/**
 * The {@link EventStore} seam on Kafka, for code written against it (and its
 * contract suite): appends go to the owner of the stream's partition, which
 * checks the expected version and writes them in a transaction, as it does for
 * commands; reads start at the stream's first event, found in its snapshot,
 * never at the start of the partition.
 *
 * Positions in {@link KafkaEventStore.readAll} are offsets + 1 within one
 * partition: Kafka orders events within a partition, not across partitions.
 */
export class KafkaEventStore implements EventStore {
  private readonly bus: KafkaCommandBus;
  private readonly kafka: Kafka;
  private readonly streamTypes: string[];
  private readonly readTimeoutMs: number;
  private readonly serializer: Serializer;
  private readonly chain: UpcasterChain;
  private admin?: Admin;

  constructor(private readonly options: KafkaEventStoreOptions) {
    this.bus = new KafkaCommandBus(options);
    this.streamTypes = [...new Set([...this.bus.domain.models.map((model) => model.type), ...(options.streams ?? [])])];
    this.readTimeoutMs = options.readTimeoutMs ?? 30_000;
    this.serializer = options.serializer ?? new JsonSerializer();
    this.chain = new UpcasterChain(options.upcasters ?? [], this.bus.domain.eventRegistry);
    this.kafka = new Kafka({ logLevel: logLevel.NOTHING, ...options.kafkaConfig, brokers: [...options.brokers] });
  }

  async start(): Promise<void> {
    await this.bus.start();
    this.admin = await connectAdmin(this.options.brokers, this.options.kafkaConfig, this.options.startupTimeoutMs ?? 10_000);
    try {
      await this.serializer.prepare?.({
        topics: this.bus.domain.models.map((model) => ({ topic: this.bus.layout.events(model.type), eventClasses: model.eventClasses })),
      });
    } catch (error) {
      await this.stop();
      throw error;
    }
  }

  async stop(): Promise<void> {
    await this.bus.stop();
    await this.admin?.disconnect().catch(() => undefined);
  }

  /**
   * The position in a stream's partition as of a time, with Kafka's
   * `offsetsForTimes` (ListOffsets by timestamp): every event of the stream at
   * or before it was written at or before `time` (record timestamps; one writer
   * per partition keeps them in order). Pass it to `Rehydrator.load(id, { asOfPosition })`.
   */
  async positionAt(stream: StreamId, time: Date): Promise<number> {
    if (!(time instanceof Date) || Number.isNaN(time.getTime())) throw new InvalidOptionError('KafkaEventStore.positionAt needs a valid Date');
    const topic = this.bus.layout.events(stream.aggregateType);
    const partition = partitionForKey(stream.aggregateId, this.bus.layout.partitions);
    // The first offset with a timestamp after `time`: everything before it is at or before `time`.
    const offsets = await this.admin!.fetchTopicOffsetsByTimestamp(topic, time.getTime() + 1);
    const found = offsets.find((entry) => entry.partition === partition);
    if (found && Number(found.offset) >= 0) return Number(found.offset);
    // No record that late: the whole partition is at or before `time`.
    const ends = await this.admin!.fetchTopicOffsets(topic);
    return Number(ends.find((entry) => entry.partition === partition)?.high ?? '0');
  }

  async appendToStream(stream: StreamId, expectedVersion: number, events: readonly NewEvent[]): Promise<EventEnvelope<EventData>[]> {
    if (!Number.isInteger(expectedVersion) || expectedVersion < 0) {
      throw new InvalidOptionError(`expectedVersion must be an integer of 0 or more (0 for a new stream), got ${expectedVersion}`);
    }
    const reply = await this.bus.request(`append to ${stream.aggregateType} '${stream.aggregateId}'`, randomUUID(), stream.aggregateId, {
      value: JSON.stringify(events.map((event) => ({ ...event, occurredAt: event.occurredAt.toISOString() }))),
      headers: { [HEADER.request]: 'append', [HEADER.aggregateType]: stream.aggregateType, [HEADER.expectedVersion]: String(expectedVersion) },
    });
    return reply.events.map((event, index) => ({
      ...events[index],
      aggregateType: stream.aggregateType,
      aggregateId: stream.aggregateId,
      sequence: event.sequence,
      metadata: { ...events[index].metadata },
      payload: event.payload,
    }));
  }

  async readStream(stream: StreamId, options: ReadStreamOptions = {}): Promise<EventEnvelope<EventData>[]> {
    let snapshot;
    try {
      snapshot = (await this.bus.request(`read ${stream.aggregateType} '${stream.aggregateId}'`, randomUUID(), stream.aggregateId, {
        value: null,
        headers: { [HEADER.request]: 'load', [HEADER.aggregateType]: stream.aggregateType },
      })).snapshot!;
    } catch (error) {
      if (error instanceof AggregateNotFoundError) return [];
      throw error;
    }
    const from = Math.max(1, options.fromSequence ?? 1);
    const to = Math.min(snapshot.version, options.toSequence ?? snapshot.version);
    if (from > to) return [];
    const prefix = `${stream.aggregateId}:`;
    const topic = this.bus.layout.events(stream.aggregateType);
    const partition = partitionForKey(stream.aggregateId, this.bus.layout.partitions);
    const wanted = to - from + 1;
    const read = (fromOffset: string) =>
      readPartition({
        kafka: this.kafka,
        admin: this.admin!,
        groupPrefix: this.bus.layout.prefix,
        topic,
        partition,
        fromOffset,
        // Only this stream's events in the range, so the read can stop as soon as it has them all.
        accept: (message) => {
          const key = message.key?.toString('utf8');
          if (message.value === null || !key?.startsWith(prefix)) return false;
          const sequence = Number(key.slice(prefix.length));
          return sequence >= from && sequence <= to;
        },
        enough: (kept) => kept.length >= wanted,
        timeoutMs: this.readTimeoutMs,
      });
    // Streams written before snapshots recorded their first offset are read from the partition's start.
    const firstOffset = Number(snapshot.firstOffset ?? '0');
    // After a rehydrator's snapshot (its position is the offset after its last event) only the tail is read.
    const hinted = options.afterPosition !== undefined && options.afterPosition > firstOffset;
    let records = await read(String(hinted ? options.afterPosition : firstOffset));
    // A hint past events in the range (a snapshot from elsewhere) is not trusted: read from the stream's start.
    if (hinted && records.length < wanted) records = await read(String(firstOffset));
    // Positions as readAll gives them (offset + 1), so a rehydrator can answer "as of a position".
    const events = await Promise.all(records.map(async (record) => ({ ...(await this.decode(topic, partition, record)), position: Number(record.offset) + 1 })));
    return events.filter((event) => event.sequence >= from && event.sequence <= to);
  }

  async *readAll(options: ReadAllOptions = {}): AsyncIterable<StoredEvent> {
    const fromOffset = String(Math.max(0, (options.fromPosition ?? 1) - 1));
    for (const type of this.streamTypes) {
      const topic = this.bus.layout.events(type);
      for (let partition = 0; partition < this.bus.layout.partitions; partition += 1) {
        const records = await readPartition({
          kafka: this.kafka,
          admin: this.admin!,
          groupPrefix: this.bus.layout.prefix,
          topic,
          partition,
          fromOffset,
          accept: (message) => message.value !== null,
          timeoutMs: this.readTimeoutMs,
        });
        for (const record of records) yield { ...(await this.decode(topic, partition, record)), position: Number(record.offset) + 1 };
      }
    }
  }

  /**
   * The stored event, its payload read as the version the upcasting pipeline
   * starts from (resolved by the serializer where it can), not yet upcast: the
   * seam stays one stored event per record; readers upcast through an `EventPipeline`.
   */
  private async decode(topic: string, partition: number, record: KafkaMessage): Promise<EventEnvelope<EventData>> {
    const type = readHeader(record.headers, HEADER.type) ?? '';
    const writtenVersion = Number(readHeader(record.headers, HEADER.schemaVersion) ?? '1');
    const schemaVersion = this.readerVersion(type, writtenVersion);
    // Partition and offset let every decoding error say which record it failed on.
    const payload = await this.serializer.deserialize(record.value!, { topic, partition, offset: record.offset, type, schemaVersion: writtenVersion, readerVersion: schemaVersion });
    return { ...envelopeFromHeaders(record.headers, payload), schemaVersion };
  }

  /** The version to read a payload as; the written one when nothing reads it (the pipeline then names the gap). */
  private readerVersion(type: string, writtenVersion: number): number {
    try {
      return this.chain.readerVersion(type, writtenVersion);
    } catch {
      return writtenVersion;
    }
  }
}
