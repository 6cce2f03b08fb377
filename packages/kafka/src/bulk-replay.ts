import { randomUUID } from 'node:crypto';
import {
  AggregateModel,
  AggregateRoot,
  AnyClass,
  Constructor,
  DomainModel,
  EventPipeline,
  EventRecord,
  InvalidOptionError,
  Serializer,
  Upcaster,
} from '@tributary/core';
import { Admin, Consumer, Kafka, KafkaConfig, KafkaMessage, logLevel } from 'kafkajs';
import { TopicMissingError } from './errors/kafka.errors';
import { ReadTimeoutError } from './errors/processor.errors';
import { UnreadableEventRecordError } from './errors/replay.errors';
import { Instrumentation, REPLAY_EVENT_NAMES, ReplayEventName, ReplayEvents } from './instrumentation';
import { resolveConnectionOptions } from './kafka-options';
import { HEADER, readHeader } from './record-headers';
import { TopicLayout } from './topic-layout';
import { fetchTopicOffsets } from './topic-offsets';
import { connectAdmin } from './topic-provisioner';

/** Per events topic, per partition: an offset, as a decimal string. */
export type TopicPartitionOffsets = Record<string, Record<number, string>>;

/** Replayed aggregates: by aggregate type, then by aggregate id. */
export type ReplayedAggregates = Map<string, Map<string, AggregateRoot>>;

/** Options of a {@link BulkReplay}. */
export interface BulkReplayOptions {
  /** Broker addresses, `host:port`. */
  readonly brokers: readonly string[];
  /** The app, as given to the command processors: it names the topics. */
  readonly app: string;
  /** Topic prefix, if the processors were given one. Defaults to `app`. */
  readonly prefix?: string;
  /** The app's partitions, as given to the processors. Only names topics here: every partition a topic has is read. Defaults to 6. */
  readonly partitions?: number;
  /** The aggregates whose events topics are replayed. */
  readonly aggregates: readonly Constructor<AggregateRoot>[];
  /** How event payloads were written. Defaults to a `JsonSerializer`. */
  readonly serializer?: Serializer;
  /** Upcasters for what schema resolution cannot do. */
  readonly upcasters?: Iterable<Upcaster>;
  /** Past versions of events, still in the topics, that the aggregates no longer apply: registered so upcasters can read them. */
  readonly events?: readonly AnyClass[];
  /**
   * Where to start, per topic and partition: the offset of the first record to
   * read, e.g. a previous result's {@link BulkReplayResult.nextOffsets}. Partitions
   * not named are read from their beginning. Aggregates with events before these
   * offsets fail the sequence check unless given in `initialAggregates`.
   */
  readonly fromOffsets?: TopicPartitionOffsets;
  /**
   * The aggregates as they stood at `fromOffsets`, e.g. a previous result's
   * {@link BulkReplayResult.aggregates}: the replay continues them, in place.
   */
  readonly initialAggregates?: ReplayedAggregates;
  /** Passed to kafkajs: `ssl`, `sasl`, `clientId`, `logLevel` … */
  readonly kafkaConfig?: Omit<KafkaConfig, 'brokers'>;
  /** Bound on connecting at start-up. Defaults to 10 000 ms. */
  readonly startupTimeoutMs?: number;
  /** Bound on reading making no progress at all before {@link ReadTimeoutError}. Defaults to 30 000 ms. */
  readonly readTimeoutMs?: number;
  /** Least time between two `replay.progress` events. Defaults to 250 ms. */
  readonly progressIntervalMs?: number;
}

/** What a {@link BulkReplay} built. */
export interface BulkReplayResult {
  /** Every aggregate, by type then id, at the end offsets taken when the replay started. Erased aggregates are absent. */
  readonly aggregates: ReplayedAggregates;
  /** Stored events applied. */
  readonly events: number;
  /** Records read: events and erasure tombstones (transaction markers and aborted records are never seen). */
  readonly records: number;
  /** From the end offsets being taken to the last partition reaching them. */
  readonly elapsedMs: number;
  readonly eventsPerSecond: number;
  /** Per topic and partition, the offset to continue from: pass it as `fromOffsets` (with `initialAggregates`) to replay only what came since. */
  readonly nextOffsets: TopicPartitionOffsets;
  /** One replayed aggregate, by its class or type, or `undefined` if it has no events (or was erased). */
  get<T extends AggregateRoot>(aggregate: Constructor<T> | string, aggregateId: string): T | undefined;
}

/** One partition's read: from where, to where, and how far it got. */
interface PartitionRead {
  readonly topic: string;
  readonly partition: number;
  readonly model: AggregateModel;
  readonly aggregates: Map<string, AggregateRoot>;
  readonly from: bigint;
  /** The end offset taken at the start: one past the last record or marker to read. */
  readonly end: bigint;
  /** Next offset to apply: records below it were applied (or lie before `from`), so a batch fetched twice is applied once. */
  next: bigint;
  /** Highest offset the fetches reached, markers and aborted records included. */
  reached: bigint;
}

/**
 * Replays the events topics of aggregates into memory: every partition, from
 * the beginning (or given offsets), `read_committed`, up to the end offsets
 * taken when it starts. Each record goes through one {@link EventPipeline}
 * (decode → resolve → upcast) and is applied to its aggregate at once, with the
 * sequence checks of a load: the topic is streamed, never held; memory holds
 * the aggregates and kafkajs's fetch buffers.
 *
 * For rebuilding read models, checking every aggregate still loads after a
 * change of upcasters, or measuring how fast history reads. Emits
 * `replay.started`, `replay.progress` and `replay.finished` to listeners.
 *
 * A record that cannot be decoded stops the replay with the pipeline's error,
 * which names its topic, partition and offset.
 *
 * @example
 * ```ts
 * const replay = new BulkReplay({ app: 'shop', brokers: ['localhost:9092'], partitions: 6, aggregates: [Order] });
 * replay.on('replay.progress', ({ eventsPerSecond, etaMs }) => console.error(`${eventsPerSecond} events/s, ${etaMs} ms left`));
 * const result = await replay.run();
 * result.get(Order, 'o-1');
 * ```
 */
export class BulkReplay {
  private readonly domain: DomainModel;
  private readonly pipeline: EventPipeline;
  private readonly layout: TopicLayout;
  private readonly serializer: Serializer;
  private readonly kafkaConfig: Omit<KafkaConfig, 'brokers'>;
  private readonly startupTimeoutMs: number;
  private readonly readTimeoutMs: number;
  private readonly progressIntervalMs: number;
  private readonly instrumentation = new Instrumentation<ReplayEvents>(REPLAY_EVENT_NAMES);

  constructor(private readonly options: BulkReplayOptions) {
    const resolved = resolveConnectionOptions(options, 'BulkReplay');
    this.domain = new DomainModel(options.aggregates, options.events ?? []);
    this.serializer = resolved.serializer;
    this.pipeline = new EventPipeline({ registry: this.domain.eventRegistry, upcasters: options.upcasters, serializer: this.serializer });
    this.layout = resolved.layout;
    this.kafkaConfig = resolved.kafkaConfig;
    this.startupTimeoutMs = resolved.startupTimeoutMs;
    this.readTimeoutMs = positive(options.readTimeoutMs ?? 30_000, 'readTimeoutMs');
    this.progressIntervalMs = options.progressIntervalMs ?? 250;
    if (!(this.progressIntervalMs >= 0)) throw new InvalidOptionError(`BulkReplay option progressIntervalMs must be 0 or more, got ${this.progressIntervalMs}`);
  }

  /** The events topic of each aggregate replayed. */
  get topics(): string[] {
    return this.domain.models.map((model) => this.layout.events(model.type));
  }

  /**
   * Listens to an instrumentation event; returns the function that stops listening.
   * @throws {@link InvalidOptionError} for a name that is not a replay event.
   */
  on<E extends ReplayEventName>(event: E, listener: (payload: ReplayEvents[E]) => void): () => void {
    return this.instrumentation.on(event, listener);
  }

  /** Reads every partition to the end offsets it takes first, and returns the aggregates. */
  async run(): Promise<BulkReplayResult> {
    const admin = await connectAdmin(this.options.brokers, this.kafkaConfig, this.startupTimeoutMs);
    try {
      await this.serializer.prepare?.({
        topics: this.domain.models.map((model) => ({ topic: this.layout.events(model.type), eventClasses: model.eventClasses })),
      });
      const aggregates: ReplayedAggregates = new Map();
      const reads = await this.partitionReads(admin, aggregates);
      return await this.read(admin, reads, aggregates);
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }

  private async partitionReads(admin: Admin, aggregates: ReplayedAggregates): Promise<PartitionRead[]> {
    const existing = new Set(await admin.listTopics());
    const reads: PartitionRead[] = [];
    for (const model of this.domain.models) {
      const topic = this.layout.events(model.type);
      if (!existing.has(topic)) throw new TopicMissingError(topic);
      const initial = this.options.initialAggregates?.get(model.type);
      const byId = initial ?? new Map<string, AggregateRoot>();
      aggregates.set(model.type, byId);
      for (const { partition, low, high } of await fetchTopicOffsets(admin, topic)) {
        const end = BigInt(high);
        const start = this.options.fromOffsets?.[topic]?.[partition];
        let from = BigInt(low);
        if (start !== undefined) {
          if (!/^\d+$/.test(start)) throw new InvalidOptionError(`BulkReplay option fromOffsets names offset ${JSON.stringify(start)} for ${topic} partition ${partition}; offsets are decimal strings`);
          if (BigInt(start) > from) from = BigInt(start) < end ? BigInt(start) : end;
        }
        reads.push({ topic, partition, model, aggregates: byId, from, end, next: from, reached: from - 1n });
      }
    }
    return reads.sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
  }

  private async read(admin: Admin, reads: PartitionRead[], aggregates: ReplayedAggregates): Promise<BulkReplayResult> {
    const totalRecords = reads.reduce((sum, read) => sum + Number(read.end - read.from), 0);
    const startedAt = Date.now();
    this.instrumentation.emit('replay.started', () => ({ topics: this.topics, partitions: reads.length, totalRecords }));
    let records = 0;
    let events = 0;
    const readOffsets = () => reads.reduce((sum, read) => sum + Number(read.reached + 1n - read.from), 0);
    const progress = (final: boolean) => {
      const elapsed = Math.max(1, Date.now() - startedAt);
      const offsets = readOffsets();
      const remaining = final ? 0 : Math.max(0, totalRecords - offsets);
      return {
        records,
        events,
        eventsPerSecond: Math.round((events * 1000) / elapsed),
        remaining,
        etaMs: remaining === 0 ? 0 : offsets === 0 ? Number.POSITIVE_INFINITY : Math.round((remaining * elapsed) / offsets),
      };
    };

    const pending = reads.filter((read) => read.from < read.end);
    if (pending.length > 0) {
      const byPartition = new Map(pending.map((read) => [`${read.topic}\u0000${read.partition}`, read]));
      await this.consume(admin, byPartition, {
        apply: async (read, message) => {
          records += 1;
          if (await this.apply(read, message)) events += 1;
        },
        progressed: () => this.instrumentation.emit('replay.progress', () => progress(false)),
      });
    }

    const elapsedMs = Date.now() - startedAt;
    const eventsPerSecond = Math.round((events * 1000) / Math.max(1, elapsedMs));
    const aggregateCount = [...aggregates.values()].reduce((sum, byId) => sum + byId.size, 0);
    this.instrumentation.emit('replay.progress', () => progress(true));
    this.instrumentation.emit('replay.finished', () => ({ records, events, aggregates: aggregateCount, elapsedMs, eventsPerSecond }));
    const nextOffsets: TopicPartitionOffsets = {};
    for (const read of reads) (nextOffsets[read.topic] ??= {})[read.partition] = read.end.toString();
    return {
      aggregates,
      events,
      records,
      elapsedMs,
      eventsPerSecond,
      nextOffsets,
      get: <T extends AggregateRoot>(aggregate: Constructor<T> | string, aggregateId: string) => {
        const type = typeof aggregate === 'string' ? aggregate : this.domain.modelOfClass(aggregate)?.type;
        return (type === undefined ? undefined : aggregates.get(type)?.get(aggregateId)) as T | undefined;
      },
    };
  }

  /**
   * Reads the partitions with one throwaway consumer group (its only member
   * gets every partition), resolving when each has reached its end offset.
   */
  private async consume(
    admin: Admin,
    reads: Map<string, PartitionRead>,
    handlers: { apply: (read: PartitionRead, message: KafkaMessage) => Promise<void>; progressed: () => void },
  ): Promise<void> {
    const kafka = new Kafka({ logLevel: logLevel.NOTHING, ...this.kafkaConfig, brokers: [...this.options.brokers] });
    const groupId = `${this.layout.prefix}-replay-${randomUUID()}`;
    const consumer: Consumer = kafka.consumer({ groupId, readUncommitted: false, allowAutoTopicCreation: false, maxWaitTimeInMs: 50 });
    const unfinished = new Set(reads.values());
    let settled = false;
    let finish: (error?: unknown) => void = () => undefined;
    const done = new Promise<void>((resolve, reject) => {
      finish = (error) => {
        if (settled) return;
        settled = true;
        if (error === undefined) resolve();
        else reject(error);
      };
    });
    let lastProgressAt = Date.now();
    let lastEmitAt = 0;
    const reach = (read: PartitionRead | undefined, lastOffset: string) => {
      if (!read || settled) return;
      lastProgressAt = Date.now();
      const offset = BigInt(lastOffset);
      if (offset > read.reached) read.reached = offset < read.end - 1n ? offset : read.end - 1n;
      if (read.reached >= read.end - 1n) unfinished.delete(read);
      if (unfinished.size === 0) return finish();
      if (lastProgressAt - lastEmitAt >= this.progressIntervalMs) {
        lastEmitAt = lastProgressAt;
        handlers.progressed();
      }
    };
    // Batches of only aborted records or transaction markers never reach eachBatch;
    // the batch events still say how far the fetch got, so a partition ending in them ends.
    consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => reach(reads.get(`${payload.topic}\u0000${payload.partition}`), payload.lastOffset));

    const stall = setInterval(() => {
      if (Date.now() - lastProgressAt <= this.readTimeoutMs) return;
      const stuck = [...unfinished][0];
      finish(new ReadTimeoutError(stuck.topic, stuck.partition, this.readTimeoutMs));
    }, Math.min(1000, this.readTimeoutMs));
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: [...new Set([...reads.values()].map((read) => read.topic))], fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachBatch: async ({ batch }) => {
          const read = reads.get(`${batch.topic}\u0000${batch.partition}`);
          if (!read || settled) return;
          try {
            for (const message of batch.messages) {
              const offset = BigInt(message.offset);
              // Applied already, or before the start: a fetch that began before the seek below starts at the beginning.
              if (offset < read.next) continue;
              if (offset >= read.end) break;
              await handlers.apply(read, message);
              read.next = offset + 1n;
              if (settled) return;
            }
          } catch (error) {
            finish(error);
          }
        },
      });
      // A seek right after run is applied at the next fetch (admin.setOffsets would run a consumer of its own).
      for (const read of reads.values()) {
        if (read.from > 0n) consumer.seek({ topic: read.topic, partition: read.partition, offset: read.from.toString() });
      }
      await done;
    } finally {
      settled = true;
      clearInterval(stall);
      await consumer.disconnect().catch(() => undefined);
      await admin.deleteGroups([groupId]).catch(() => undefined);
    }
  }

  /** Applies one record: an event to its aggregate, or an erasure tombstone. Returns whether it was an event. */
  private async apply(read: PartitionRead, message: KafkaMessage): Promise<boolean> {
    const { topic, partition, model, aggregates } = read;
    if (message.value === null) {
      // Erasure tombstones every event key of an aggregate: it is gone, until its id is used again from sequence 1.
      const key = message.key?.toString('utf8') ?? '';
      const separator = key.lastIndexOf(':');
      if (separator <= 0) throw new UnreadableEventRecordError(topic, partition, message.offset, `is a tombstone whose key ${JSON.stringify(key)} is not '<aggregateId>:<sequence>'`);
      aggregates.delete(key.slice(0, separator));
      return false;
    }
    const headers = message.headers;
    const type = readHeader(headers, HEADER.type);
    const aggregateId = readHeader(headers, HEADER.aggregateId);
    const sequence = Number(readHeader(headers, HEADER.sequence));
    const schemaVersion = Number(readHeader(headers, HEADER.schemaVersion));
    if (type === undefined || aggregateId === undefined || !Number.isInteger(sequence) || !Number.isInteger(schemaVersion)) {
      throw new UnreadableEventRecordError(topic, partition, message.offset, `lacks one of the headers ${HEADER.type}, ${HEADER.aggregateId}, ${HEADER.sequence}, ${HEADER.schemaVersion}`);
    }
    const decoded = await this.pipeline.decode(message.value, { topic, partition, offset: message.offset, type, schemaVersion });
    const payloads = decoded.map((record) => this.instance(record, topic, partition, message.offset));
    aggregates.set(aggregateId, model.replay(aggregates.get(aggregateId), aggregateId, { sequence, payloads }));
    return true;
  }

  private instance(record: EventRecord, topic: string, partition: number, offset: string): object {
    try {
      return this.pipeline.toInstance(record);
    } catch {
      // Again, naming the record: the words cost a string per record, paid only on failure.
      return this.pipeline.toInstance(record, { topic, partition, offset });
    }
  }
}

function positive(value: number, name: string): number {
  if (!(value > 0)) throw new InvalidOptionError(`BulkReplay option ${name} must be positive, got ${value}`);
  return value;
}
