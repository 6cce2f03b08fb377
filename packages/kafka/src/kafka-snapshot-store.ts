import { checkSnapshotToSave, CorruptSnapshotCallback, CorruptSnapshotError, InvalidOptionError, Snapshot, snapshotFromJson, SnapshotQuery, SnapshotStore, snapshotToJson, warnOfCorruptSnapshot } from '@tributary/core';
import { Admin, Kafka, KafkaConfig, Message, Producer, logLevel } from 'kafkajs';
import { BatchedSender } from './batched-sender';
import { toTributaryError } from './broker-error-map';
import { TopicMissingError } from './errors/kafka.errors';
import { readPartition } from './partition-reader';
import { TopicLayout, TopicSpec } from './topic-layout';
import { fetchTopicOffsets } from './topic-offsets';
import { DEFAULT_STARTUP_TIMEOUT_MS, connectAdmin, verifyRetention, waitForPartitionLeaders } from './topic-provisioner';

/** Options of {@link KafkaSnapshotStore}. */
export interface KafkaSnapshotStoreOptions {
  /** Broker addresses, `host:port`. */
  readonly brokers: readonly string[];
  /**
   * The app whose topic to use: `<prefix>.snapshot-store` ({@link TopicLayout.snapshotStore}).
   * Give `app` (and `prefix` if the app has one) or `topic`.
   */
  readonly app?: string;
  /** The app's topic prefix, if not `app`. */
  readonly prefix?: string;
  /** The topic, named outright instead of through `app`. */
  readonly topic?: string;
  /** Create the topic, compacted, if it does not exist. Defaults to true; when false, a missing topic is a {@link TopicMissingError}. */
  readonly createTopic?: boolean;
  /** Partitions of the topic when the store creates it. Defaults to 1: it is read whole at start, never by partition. */
  readonly partitions?: number;
  /** Replicas of the topic when the store creates it. Defaults to -1: the broker's `default.replication.factor`. */
  readonly replicationFactor?: number;
  /** Passed to kafkajs: `ssl`, `sasl`, `clientId`, `logLevel` … */
  readonly kafkaConfig?: Omit<KafkaConfig, 'brokers'>;
  /** Bound on connecting at start-up. Defaults to 10 000 ms. */
  readonly startupTimeoutMs?: number;
  /** Bound on reading one partition of the topic at start-up. Defaults to 60 000 ms. */
  readonly readTimeoutMs?: number;
  /** Told of each stored snapshot that cannot be read; it is then loaded as undefined. Defaults to a `console.warn` line. */
  readonly onCorrupt?: CorruptSnapshotCallback;
}

/** What the store knows of one key: the JSON last written, and its version when that is readable. */
interface KeptSnapshot {
  readonly json: string;
  readonly version: number | undefined;
}

/**
 * A {@link SnapshotStore} on a compacted Kafka topic, for apps that keep
 * everything in Kafka: one record per save, keyed `<aggregateType>:<aggregateId>`
 * (the type URI-encoded), value the snapshot as JSON, a tombstone per delete.
 * Compaction keeps the last record of each key.
 *
 * **It holds every snapshot in this process's memory.** {@link start} reads the
 * topic to its end into a map, as a KTable does, and every save and delete
 * updates the map as it is written, so a load never reads the topic. A store
 * sees only its own writes after it starts: another process's snapshots reach it
 * at its next start. Two processes saving snapshots of the same aggregate can
 * therefore leave an older one last on the topic; that costs a longer load, never a
 * wrong state, since a snapshot is a cache of the events.
 *
 * The topic is not the command processors' `<app>.<Type>.snapshots`
 * ({@link TopicLayout.snapshots}): that one holds each partition's aggregate
 * state in a payload of its own, written only by the partition's owner inside
 * its transactions, and is read by partition when a processor takes one over.
 * This store writes whenever a rehydrator takes a snapshot, from any process, so
 * it has a topic of its own, {@link TopicLayout.snapshotStore}.
 *
 * Writes go through an idempotent producer with `acks: all`; saves of one store
 * are sent in the order they were made, so the topic ends with the newest.
 *
 * @example
 * ```ts
 * const snapshots = new KafkaSnapshotStore({ brokers: ['localhost:9092'], app: 'shop' });
 * await snapshots.start();
 * const orders = new Rehydrator({ aggregate: Order, eventStore, snapshots });
 * // …
 * await snapshots.stop();
 * ```
 */
export class KafkaSnapshotStore implements SnapshotStore {
  /** The topic the snapshots are on. */
  readonly topic: string;
  private readonly kafka: Kafka;
  private readonly kept = new Map<string, KeptSnapshot>();
  /** Writes queued while one is in flight go together in the next, in order. */
  private readonly sender = new BatchedSender(async (messages) => {
    try {
      await this.producer!.send({ topic: this.topic, acks: -1, messages });
    } catch (error) {
      throw toTributaryError(error, { operation: `writing snapshots to ${this.topic}`, topic: this.topic, brokers: this.options.brokers });
    }
  });
  private readonly onCorrupt: CorruptSnapshotCallback;
  private readonly partitions: number;
  private readonly replicationFactor: number;
  private readonly startupTimeoutMs: number;
  private readonly readTimeoutMs: number;
  private starting?: Promise<void>;
  private admin?: Admin;
  private producer?: Producer;

  constructor(private readonly options: KafkaSnapshotStoreOptions) {
    if (!options || typeof options !== 'object') throw new InvalidOptionError('KafkaSnapshotStore needs options: { brokers, app } or { brokers, topic }');
    const { brokers } = options;
    if (!Array.isArray(brokers) || brokers.length === 0 || brokers.some((broker) => typeof broker !== 'string' || !broker.includes(':'))) {
      throw new InvalidOptionError(`KafkaSnapshotStore option brokers must be a non-empty array of 'host:port' strings, got ${JSON.stringify(brokers)}`);
    }
    this.partitions = options.partitions ?? 1;
    if (!Number.isInteger(this.partitions) || this.partitions < 1) {
      throw new InvalidOptionError(`KafkaSnapshotStore option partitions must be a whole number of at least 1, got ${JSON.stringify(options.partitions)}`);
    }
    this.topic = topicOf(options, this.partitions);
    this.replicationFactor = options.replicationFactor ?? -1;
    if (!Number.isInteger(this.replicationFactor) || (this.replicationFactor < 1 && this.replicationFactor !== -1)) {
      throw new InvalidOptionError(
        `KafkaSnapshotStore option replicationFactor must be a whole number of at least 1, or -1 for the broker's default, got ${JSON.stringify(options.replicationFactor)}`,
      );
    }
    this.startupTimeoutMs = options.startupTimeoutMs ?? DEFAULT_STARTUP_TIMEOUT_MS;
    this.readTimeoutMs = options.readTimeoutMs ?? 60_000;
    for (const [name, value] of [['startupTimeoutMs', this.startupTimeoutMs], ['readTimeoutMs', this.readTimeoutMs]] as const) {
      if (typeof value !== 'number' || !(value > 0)) throw new InvalidOptionError(`KafkaSnapshotStore option ${name} must be a positive number of milliseconds, got ${JSON.stringify(value)}`);
    }
    this.onCorrupt = options.onCorrupt ?? warnOfCorruptSnapshot;
    this.kafka = new Kafka({ logLevel: logLevel.NOTHING, ...options.kafkaConfig, brokers: [...brokers] });
  }

  /**
   * Provisions the topic (compacted; an existing one is refused unless it is),
   * connects the producer and reads the topic to its end. Every other method
   * starts the store on first use; call it at start-up to fail early and to pay
   * for the read there.
   */
  start(): Promise<void> {
    this.starting ??= this.connectAndRestore().catch(async (error: unknown) => {
      this.starting = undefined;
      await this.disconnect();
      throw error;
    });
    return this.starting;
  }

  /** Waits for the writes made so far, then disconnects. */
  async stop(): Promise<void> {
    const starting = this.starting;
    if (!starting) return;
    await starting.catch(() => undefined);
    await this.sender.flushed();
    this.starting = undefined;
    await this.disconnect();
    this.kept.clear();
  }

  async save(snapshot: Snapshot): Promise<void> {
    checkSnapshotToSave(snapshot, 'KafkaSnapshotStore');
    await this.start();
    const key = keyOf(snapshot.aggregateType, snapshot.aggregateId);
    const previous = this.kept.get(key);
    if (previous?.version !== undefined && previous.version > snapshot.version) return;
    // Kept before it is sent, so a racing save of an older version sees it and stays out of the topic.
    const entry: KeptSnapshot = { json: snapshotToJson(snapshot), version: snapshot.version };
    this.kept.set(key, entry);
    try {
      await this.write({ key, value: entry.json });
    } catch (error) {
      if (this.kept.get(key) === entry) {
        if (previous) this.kept.set(key, previous);
        else this.kept.delete(key);
      }
      throw error;
    }
  }

  async load(aggregateType: string, aggregateId: string, query: SnapshotQuery = {}): Promise<Snapshot | undefined> {
    await this.start();
    const entry = this.kept.get(keyOf(aggregateType, aggregateId));
    if (entry === undefined) return undefined;
    let snapshot: Snapshot;
    try {
      // Parsed on every load: each caller gets objects of its own.
      snapshot = snapshotFromJson(entry.json, aggregateType, aggregateId, `Kafka topic ${this.topic}`);
    } catch (error) {
      if (!(error instanceof CorruptSnapshotError)) throw error;
      this.onCorrupt(error, aggregateType, aggregateId);
      return undefined;
    }
    if (query.maxVersion !== undefined && snapshot.version > query.maxVersion) return undefined;
    if (query.asOf !== undefined && snapshot.occurredAt.getTime() > query.asOf.getTime()) return undefined;
    return snapshot;
  }

  async delete(aggregateType: string, aggregateId: string): Promise<void> {
    await this.start();
    const key = keyOf(aggregateType, aggregateId);
    this.kept.delete(key);
    // A tombstone: compaction removes the key's records.
    await this.write({ key, value: null });
  }

  private async connectAndRestore(): Promise<void> {
    const { brokers, kafkaConfig } = this.options;
    this.admin = await connectAdmin(brokers, kafkaConfig, this.startupTimeoutMs);
    await this.provisionTopic(this.admin);
    this.producer = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
    try {
      await this.producer.connect();
    } catch (error) {
      throw toTributaryError(error, { operation: `connecting the snapshot producer of ${this.topic}`, brokers });
    }
    await this.restore(this.admin);
  }

  /** Reads the topic to the end it has now; the last record of each key wins, as compaction will keep it. */
  private async restore(admin: Admin): Promise<void> {
    this.kept.clear();
    const offsets = await fetchTopicOffsets(admin, this.topic);
    for (const { partition, low, high } of offsets) {
      if (BigInt(high) <= BigInt(low)) continue;
      const records = await readPartition({
        kafka: this.kafka,
        admin,
        groupPrefix: `${this.topic}-restore`,
        topic: this.topic,
        partition,
        fromOffset: low,
        accept: (message) => message.key !== null,
        timeoutMs: this.readTimeoutMs,
      });
      for (const record of records) {
        const key = record.key!.toString('utf8');
        if (record.value === null) this.kept.delete(key);
        else {
          const json = record.value.toString('utf8');
          this.kept.set(key, { json, version: versionIn(json) });
        }
      }
    }
  }

  private async provisionTopic(admin: Admin): Promise<void> {
    const spec: TopicSpec = {
      name: this.topic,
      kind: 'snapshot-store',
      partitions: this.partitions,
      config: { 'cleanup.policy': 'compact' },
      // Snapshots are a cache, but with `delete` a snapshot would vanish while a loaded map still serves it; refuse it as for the other topics.
      mustKeepHistory: true,
    };
    const exists = (await this.adminCall(() => admin.listTopics(), 'listing topics')).includes(this.topic);
    if (!exists) {
      if (this.options.createTopic === false) throw new TopicMissingError(this.topic);
      try {
        await admin.createTopics({
          waitForLeaders: false,
          topics: [
            {
              topic: spec.name,
              numPartitions: spec.partitions,
              replicationFactor: this.replicationFactor,
              configEntries: Object.entries(spec.config).map(([name, value]) => ({ name, value })),
            },
          ],
        });
      } catch (error) {
        // Another process created it first: checked below like any existing topic.
        const inner = (error as { errors?: Array<{ type?: string }> }).errors ?? [];
        if (!(inner.length > 0 && inner.every((each) => each.type === 'TOPIC_ALREADY_EXISTS'))) {
          throw toTributaryError(error, { operation: `creating topic ${this.topic}`, topic: this.topic });
        }
      }
    }
    await waitForPartitionLeaders(admin, [this.topic]);
    await verifyRetention(admin, [spec]);
  }

  private write(message: Message): Promise<void> {
    return this.sender.enqueue(message);
  }

  private async adminCall<T>(call: () => Promise<T>, operation: string): Promise<T> {
    try {
      return await call();
    } catch (error) {
      throw toTributaryError(error, { operation, topic: this.topic, brokers: this.options.brokers });
    }
  }

  private async disconnect(): Promise<void> {
    const { producer, admin } = this;
    this.producer = undefined;
    this.admin = undefined;
    await producer?.disconnect().catch(() => undefined);
    await admin?.disconnect().catch(() => undefined);
  }
}

function topicOf(options: KafkaSnapshotStoreOptions, partitions: number): string {
  if (options.topic !== undefined) {
    if (options.app !== undefined || options.prefix !== undefined) {
      throw new InvalidOptionError('KafkaSnapshotStore takes either option topic or option app (with prefix), not both');
    }
    if (typeof options.topic !== 'string' || !/^[a-zA-Z0-9._-]{1,249}$/.test(options.topic)) {
      throw new InvalidOptionError(
        `KafkaSnapshotStore option topic must be a Kafka topic name (letters, digits, '.', '_' and '-', at most 249), got ${JSON.stringify(options.topic)}`,
      );
    }
    return options.topic;
  }
  if (options.app === undefined) throw new InvalidOptionError("KafkaSnapshotStore needs option app (its topic is then '<app>.snapshot-store') or option topic");
  return new TopicLayout({ app: options.app, prefix: options.prefix, partitions }).snapshotStore;
}

/** The record key of an aggregate's snapshots; the type is URI-encoded so that no two type and id pairs share a key. */
function keyOf(aggregateType: string, aggregateId: string): string {
  return `${encodeURIComponent(aggregateType)}:${aggregateId}`;
}

/** The version a stored record claims, or undefined if it cannot be read (the record is then replaced by any save). */
function versionIn(json: string): number | undefined {
  try {
    const version = (JSON.parse(json) as { version?: unknown } | null)?.version;
    return typeof version === 'number' && Number.isSafeInteger(version) ? version : undefined;
  } catch {
    return undefined;
  }
}
