import { randomUUID } from 'node:crypto';
import {
  AggregateAlreadyExistsError,
  AggregateModel,
  AggregateNotFoundError,
  AggregateRoot,
  CommandRegistry,
  Constructor,
  DomainModel,
  InvalidHandlerResultError,
  InvalidOptionError,
  MissingCommandHandlerError,
  MissingTargetAggregateIdError,
  NewEvent,
  WrongExpectedVersionError,
} from '@tributary/core';
import { Admin, Consumer, EachBatchPayload, Kafka, KafkaMessage, Message, Producer, RecordMetadata, logLevel } from 'kafkajs';
import { ProducerFencedError } from './errors/kafka.errors';
import { toTributaryError } from './broker-error-map';
import { CommandReply, ReplyEvent, replyError } from './command-reply';
import { Instrumentation, ProcessorEventName, ProcessorEvents } from './instrumentation';
import { KafkaConnectionOptions, ResolvedConnectionOptions, resolveConnectionOptions } from './kafka-options';
import { partitionForKey } from './murmur2';
import { AggregateSnapshot, InMemoryPartitionStateStore, PartitionStateStore } from './partition-state-store';
import { restorePartition, stateCheckpoint } from './partition-restorer';
import { FileSystemPartitionStateStore, partitionStateDirectory } from './file-system-state-store';
import { HEADER, envelopeHeaders, readHeader, readMetadata } from './record-headers';
import { GroupJoinTimeoutError } from './errors/processor.errors';
import { TopicLayout } from './topic-layout';
import { connectAdmin, provisionTopics } from './topic-provisioner';

/** Options of {@link CommandProcessor}. */
export interface CommandProcessorOptions extends KafkaConnectionOptions {
  /** Create missing topics at start-up (then verify them either way). Defaults to true. */
  readonly createTopics?: boolean;
  /** Most commands committed in one transaction. Defaults to 100. */
  readonly maxCommandsPerTransaction?: number;
  /**
   * A fresh local state store for each partition this processor takes, for a
   * custom store. Defaults to {@link InMemoryPartitionStateStore}, or to a
   * {@link FileSystemPartitionStateStore} when `stateDirectory` is set. A store
   * with the durability hooks of {@link PartitionStateStore} (`persistedCheckpoint`,
   * `commit`, `clear`) is reused on assignment when its persisted checkpoint is the
   * partition's checkpoint in Kafka; otherwise it is cleared and restored from the
   * snapshots topics. Not together with `stateDirectory`.
   */
  readonly stateStore?: (partition: number) => PartitionStateStore;
  /**
   * Keep each partition's local state on local disk as well as in memory, under
   * `<stateDirectory>/<app>/<partition>` ({@link FileSystemPartitionStateStore}),
   * for fast restarts: a processor that gets back a partition whose state it
   * persisted, with no command processed since by anyone, skips reading the
   * snapshots topics. Kafka stays the source of truth: the persisted state is used
   * only if its checkpoint is the one in Kafka, read after fencing, and else
   * restored from the topics. Processors may share a directory: a partition's
   * files are written by its owner, and a superseded owner cannot corrupt them.
   * Delete it if the app's topics are deleted and recreated. Unset by default: in
   * memory only. Not together with `stateStore`.
   */
  readonly stateDirectory?: string;
  /** Bound on restoring a partition's state. Defaults to 60 000 ms. */
  readonly restoreTimeoutMs?: number;
  /** Consumer group session timeout: how soon a dead processor's partitions move. Defaults to 10 000 ms. */
  readonly sessionTimeoutMs?: number;
  /** Plain event stream types served through the EventStore seam ({@link KafkaEventStore}), besides the aggregates. */
  readonly streams?: readonly string[];
}

/** Requests the processor serves besides commands. */
export type ProcessorRequest = 'command' | 'load' | 'erase' | 'append';

interface PartitionOwner {
  readonly partition: number;
  readonly producer: Producer;
  readonly store: PartitionStateStore;
  nextOffset: bigint;
}

interface Outgoing {
  /** Event records by topic, sent first so their offsets are known when the snapshots are written. */
  readonly events: Map<string, Message[]>;
  /** Everything else: snapshots, replies, the checkpoint. */
  readonly records: Map<string, Message[]>;
  readonly overlay: Map<string, AggregateSnapshot | null>;
  /** Streams that start in this transaction: where their first event sits in `events`. */
  readonly firstEvents: Map<string, { topic: string; index: number }>;
}

/**
 * The single writer of the partitions it owns. Processors form one consumer group
 * over the commands topic; owning command partition p makes a processor the only
 * writer of partition p of every other topic of the app.
 *
 * On assignment of p it connects the transactional producer `<app>-cmd-<p>`, which
 * fences any previous owner, restores p's state from the snapshots topics and
 * resumes from the checkpoint stored there. Each batch of commands then commits
 * in one transaction: the events, the new snapshots, the replies, the checkpoint
 * and the group offset. Local state changes only after the commit.
 *
 * @example
 * ```ts
 * const processor = new CommandProcessor({ app: 'shop', brokers: ['localhost:9092'], aggregates: [Order] });
 * await processor.start();
 * // … later
 * await processor.stop();
 * ```
 */
export class CommandProcessor {
  readonly layout: TopicLayout;
  readonly domain: DomainModel;
  private readonly options: ResolvedConnectionOptions & Required<Omit<CommandProcessorOptions, keyof KafkaConnectionOptions>>;
  private readonly commands: CommandRegistry;
  private readonly instrumentation = new Instrumentation();
  private readonly kafka: Kafka;
  private readonly owners = new Map<number, Promise<PartitionOwner | undefined>>();
  private readonly fenced = new Set<number>();
  private readonly streamTypes: ReadonlySet<string>;
  private assigned = new Set<number>();
  private admin?: Admin;
  private consumer?: Consumer;
  private running = false;

  constructor(options: CommandProcessorOptions) {
    const connection = resolveConnectionOptions(options, 'CommandProcessor');
    const maxCommandsPerTransaction = options.maxCommandsPerTransaction ?? 100;
    if (!Number.isInteger(maxCommandsPerTransaction) || maxCommandsPerTransaction < 1) {
      throw new InvalidOptionError(`CommandProcessor option maxCommandsPerTransaction must be a whole number of at least 1, got ${maxCommandsPerTransaction}`);
    }
    if (options.stateDirectory !== undefined && (typeof options.stateDirectory !== 'string' || options.stateDirectory.length === 0 || options.stateStore)) {
      throw new InvalidOptionError('CommandProcessor option stateDirectory must be a non-empty path, and cannot be combined with stateStore');
    }
    const stateDirectory = options.stateDirectory;
    this.options = {
      ...connection,
      createTopics: options.createTopics ?? true,
      maxCommandsPerTransaction,
      stateStore:
        options.stateStore ??
        (stateDirectory === undefined
          ? () => new InMemoryPartitionStateStore()
          : (partition) => new FileSystemPartitionStateStore({ directory: partitionStateDirectory(stateDirectory, connection.app, partition) })),
      stateDirectory: stateDirectory ?? '',
      restoreTimeoutMs: options.restoreTimeoutMs ?? 60_000,
      sessionTimeoutMs: options.sessionTimeoutMs ?? 10_000,
      streams: options.streams ?? [],
    };
    this.streamTypes = new Set(this.options.streams);
    this.domain = new DomainModel(connection.aggregates);
    this.commands = commandRegistryFor(this.domain, 'CommandProcessor');
    this.layout = new TopicLayout({ app: connection.app, partitions: connection.partitions });
    this.kafka = new Kafka({ logLevel: logLevel.NOTHING, ...connection.kafkaConfig, brokers: [...connection.brokers] });
  }

  /** Subscribes to instrumentation events, e.g. `processor.transaction-committed`. Returns an unsubscribe function. */
  on<E extends ProcessorEventName>(event: E, listener: (payload: ProcessorEvents[E]) => void): () => void {
    return this.instrumentation.on(event, listener);
  }

  /** The command partitions this processor owns right now. */
  ownedPartitions(): number[] {
    return [...this.assigned].filter((partition) => !this.fenced.has(partition)).sort((a, b) => a - b);
  }

  /**
   * Checks and creates the topics, joins the processors' group and starts
   * processing. Resolves once the group has given this processor its partitions.
   *
   * @throws {@link BrokerUnreachableError}, {@link TopicWouldLoseHistoryError},
   *   {@link PartitionCountMismatchError}, {@link TopicMissingError}
   */
  async start(): Promise<void> {
    if (this.running) throw new InvalidOptionError('CommandProcessor is already started');
    const { startupTimeoutMs } = this.options;
    this.admin = await connectAdmin(this.options.brokers, this.options.kafkaConfig, startupTimeoutMs);
    await provisionTopics(this.admin, this.layout, this.streamTypeNames(), { create: this.options.createTopics });
    try {
      // Before taking any command: a registry-backed serializer refuses history it could not read.
      await this.options.serializer.prepare?.({
        topics: this.domain.models.map((model) => ({ topic: this.layout.events(model.type), eventClasses: model.eventClasses })),
      });
    } catch (error) {
      await this.admin.disconnect().catch(() => undefined);
      throw error;
    }

    const consumer = this.kafka.consumer({
      groupId: this.layout.commandGroupId,
      readUncommitted: false,
      allowAutoTopicCreation: false,
      sessionTimeout: this.options.sessionTimeoutMs,
      heartbeatInterval: Math.max(100, Math.floor(this.options.sessionTimeoutMs / 5)),
      maxWaitTimeInMs: 20,
    });
    this.consumer = consumer;
    const joined = new Promise<void>((resolve) => {
      consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
        this.onAssignment(payload.memberAssignment[this.layout.commands] ?? []);
        resolve();
      });
    });
    await consumer.connect();
    await consumer.subscribe({ topic: this.layout.commands, fromBeginning: true });
    this.running = true;
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.options.partitions,
      eachBatch: (payload) => this.processBatch(payload),
    });
    await withTimeout(joined, startupTimeoutMs * 3, () => new GroupJoinTimeoutError(this.layout.commandGroupId, startupTimeoutMs * 3));
  }

  /** Stops consuming, closes every partition's producer and leaves the group. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    await this.consumer?.disconnect().catch(() => undefined);
    for (const partition of [...this.owners.keys()]) await this.release(partition, 'stop');
    await this.admin?.disconnect().catch(() => undefined);
  }

  /** The aggregate as this processor holds it, if it owns the aggregate's partition. For diagnostics and tests. */
  async localState<T extends AggregateRoot>(aggregateClass: Constructor<T>, aggregateId: string): Promise<T | undefined> {
    const model = this.domain.modelOfClass(aggregateClass);
    if (!model) throw new InvalidOptionError(`${aggregateClass.name} is not registered with this processor`);
    const owner = await this.owners.get(partitionForKey(aggregateId, this.options.partitions));
    const snapshot = owner?.store.get(model.type, aggregateId);
    return snapshot ? model.fromSnapshot(snapshot.state, snapshot.version) : undefined;
  }

  /** Every stream type this processor writes: its aggregates' and its plain streams'. */
  private streamTypeNames(): string[] {
    return [...new Set([...this.domain.models.map((model) => model.type), ...this.streamTypes])];
  }

  private onAssignment(partitions: number[]): void {
    const next = new Set(partitions);
    for (const partition of this.owners.keys()) {
      if (!next.has(partition)) void this.release(partition, 'rebalance');
    }
    this.assigned = next;
    // A new generation may hand back a partition this processor was fenced from.
    this.fenced.clear();
  }

  private owner(partition: number): Promise<PartitionOwner | undefined> {
    if (!this.assigned.has(partition) || this.fenced.has(partition)) return Promise.resolve(undefined);
    let owner = this.owners.get(partition);
    if (!owner) {
      owner = this.takeOver(partition);
      this.owners.set(partition, owner);
      owner.catch(() => this.owners.delete(partition));
    }
    return owner;
  }

  private async takeOver(partition: number): Promise<PartitionOwner> {
    const started = Date.now();
    const transactionalId = this.layout.transactionalId(partition);
    const producer = this.kafka.producer({
      transactionalId,
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      transactionTimeout: 30_000,
      // The coordinator answers CONCURRENT_TRANSACTIONS while the previous
      // transaction's markers are still being written (a few ms); kafkajs's default
      // first retry after 300 ms would stall every back-to-back transaction by that much.
      retry: { initialRetryTime: 20, retries: 10 },
    });
    try {
      await producer.connect();
      // kafkajs claims the transactional id only when a transaction begins, so
      // begin and abort one now: that bumps the epoch, fences the previous owner
      // and aborts its open transaction before we read what it left.
      const fence = await producer.transaction();
      await fence.abort();
    } catch (error) {
      await producer.disconnect().catch(() => undefined);
      throw toTributaryError(error, { operation: `taking over command partition ${partition}`, transactionalId });
    }
    let store: PartitionStateStore;
    try {
      store = this.options.stateStore(partition);
    } catch (error) {
      await producer.disconnect().catch(() => undefined);
      throw error;
    }
    const restored = await restorePartition({
      kafka: this.kafka,
      admin: this.admin!,
      app: this.options.app,
      partition,
      snapshotTopics: this.streamTypeNames().map((type) => this.layout.snapshots(type)),
      checkpointTopic: this.layout.checkpoints,
      store,
      timeoutMs: this.options.restoreTimeoutMs,
    }).catch(async (error) => {
      await producer.disconnect().catch(() => undefined);
      throw error;
    });
    this.instrumentation.emit('processor.partition-assigned', () => ({
      partition,
      aggregates: store.size,
      nextCommandOffset: restored.nextCommandOffset,
      restoreMs: Date.now() - started,
      source: restored.source,
    }));
    return { partition, producer, store, nextOffset: BigInt(restored.nextCommandOffset) };
  }

  private async release(partition: number, reason: 'rebalance' | 'fenced' | 'stop'): Promise<void> {
    const owner = this.owners.get(partition);
    this.owners.delete(partition);
    const resolved = await owner?.catch(() => undefined);
    await resolved?.producer.disconnect().catch(() => undefined);
    if (resolved) this.instrumentation.emit('processor.partition-released', () => ({ partition, reason }));
  }

  private async processBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    const owner = await this.owner(batch.partition);
    if (!owner) {
      // Fenced or no longer assigned: leave the commands to the new owner and
      // wait for the rebalance, without spinning on refetches.
      await sleep(100);
      return;
    }
    const first = BigInt(batch.messages[0].offset);
    if (first > owner.nextOffset) {
      // The group offset is ahead of the checkpoint; the checkpoint is the truth.
      this.consumer!.seek({ topic: batch.topic, partition: batch.partition, offset: owner.nextOffset.toString() });
      return;
    }
    // The group offset can lag the checkpoint (kafkajs has no KIP-447), so
    // commands below the checkpoint were already committed: skip them.
    const pending = batch.messages.filter((message) => BigInt(message.offset) >= owner.nextOffset);
    if (pending.length < batch.messages.length) resolveOffset(batch.messages[batch.messages.length - pending.length - 1].offset);
    for (let start = 0; start < pending.length; start += this.options.maxCommandsPerTransaction) {
      if (!isRunning() || isStale()) return;
      const chunk = pending.slice(start, start + this.options.maxCommandsPerTransaction);
      // Fenced: the partition has a new owner, which decides these commands itself.
      if (!(await this.commit(owner, chunk))) return;
      resolveOffset(chunk[chunk.length - 1].offset);
      await heartbeat();
    }
  }

  /** Decides and commits one chunk; false if this processor turned out to be fenced. */
  private async commit(owner: PartitionOwner, chunk: KafkaMessage[]): Promise<boolean> {
    const partition = owner.partition;
    const outgoing: Outgoing = { events: new Map(), records: new Map(), overlay: new Map(), firstEvents: new Map() };
    for (const message of chunk) await this.decide(owner, message, outgoing);
    const nextCommandOffset = (BigInt(chunk[chunk.length - 1].offset) + 1n).toString();
    add(outgoing.records, this.layout.checkpoints, {
      key: String(partition),
      partition,
      value: JSON.stringify({ nextCommandOffset }),
    });

    let transaction: Awaited<ReturnType<Producer['transaction']>> | undefined;
    try {
      transaction = await owner.producer.transaction();
      const topicMessages = (records: Map<string, Message[]>) => [...records].map(([topic, messages]) => ({ topic, messages }));
      if (outgoing.firstEvents.size > 0) {
        // A stream starts here: its snapshot must record where its first event
        // landed, which only the broker's answer to the events' send tells.
        this.noteFirstOffsets(outgoing, await transaction.sendBatch({ acks: -1, topicMessages: topicMessages(outgoing.events) }));
        this.addSnapshots(outgoing, partition);
        await transaction.sendBatch({ acks: -1, topicMessages: topicMessages(outgoing.records) });
      } else {
        this.addSnapshots(outgoing, partition);
        await transaction.sendBatch({ acks: -1, topicMessages: [...topicMessages(outgoing.events), ...topicMessages(outgoing.records)] });
      }
      await transaction.sendOffsets({
        consumerGroupId: this.layout.commandGroupId,
        topics: [{ topic: this.layout.commands, partitions: [{ partition, offset: nextCommandOffset }] }],
      });
      this.instrumentation.emit('processor.transaction-sent', () => ({
        partition,
        commands: chunk.length,
        firstOffset: chunk[0].offset,
        lastOffset: chunk[chunk.length - 1].offset,
      }));
      await transaction.commit();
    } catch (error) {
      await transaction?.abort().catch(() => undefined);
      const mapped = toTributaryError(error, { operation: `committing commands of partition ${partition}`, transactionalId: this.layout.transactionalId(partition) });
      this.instrumentation.emit('processor.transaction-aborted', () => ({ partition, error: mapped }));
      if (mapped instanceof ProducerFencedError) {
        this.fenced.add(partition);
        await this.release(partition, 'fenced');
        return false;
      }
      // Drop the producer: after a failed commit or abort it may be wedged.
      await this.release(partition, 'rebalance');
      throw mapped;
    }
    this.instrumentation.emit('processor.transaction-committed', () => ({ partition, commands: chunk.length, nextCommandOffset }));
    for (const [key, snapshot] of outgoing.overlay) {
      const [aggregateType, aggregateId] = key.split('\u0000');
      if (snapshot) owner.store.set(aggregateType, aggregateId, snapshot);
      else owner.store.delete(aggregateType, aggregateId);
    }
    // A durable store persists the changes with the checkpoint they reach.
    owner.store.commit?.(stateCheckpoint(nextCommandOffset, this.streamTypeNames().map((type) => this.layout.snapshots(type))));
    owner.nextOffset = BigInt(nextCommandOffset);
    return true;
  }

  /** Decides one request and adds its records (events, snapshot, reply) to the transaction. */
  private async decide(owner: PartitionOwner, message: KafkaMessage, outgoing: Outgoing): Promise<void> {
    const partition = owner.partition;
    const commandId = readHeader(message.headers, HEADER.commandId) ?? `${this.layout.commands}-${partition}-${message.offset}`;
    const replyTo = readHeader(message.headers, HEADER.replyTo);
    let reply: CommandReply;
    try {
      const request = (readHeader(message.headers, HEADER.request) ?? 'command') as ProcessorRequest;
      reply =
        request === 'command'
          ? await this.handleCommand(owner, message, commandId, outgoing)
          : await this.handleStreamRequest(request, owner, message, commandId, outgoing);
    } catch (error) {
      reply = { commandId, status: 'error', error: replyError(error) };
    }
    if (replyTo) {
      add(outgoing.records, this.layout.replies, {
        key: replyTo,
        partition: partitionForKey(replyTo, this.options.partitions),
        value: JSON.stringify(reply),
        headers: { [HEADER.commandId]: commandId },
      });
    }
  }

  private async handleCommand(owner: PartitionOwner, message: KafkaMessage, commandId: string, outgoing: Outgoing): Promise<CommandReply> {
    const partition = owner.partition;
    const context = `Command at ${this.layout.commands}/${partition}@${message.offset}`;
    const commandType = readHeader(message.headers, HEADER.commandType) ?? '(no command type header)';
    const command = this.commands.fromData(commandType, JSON.parse(message.value?.toString('utf8') ?? 'null') ?? {}, context);
    const route = this.domain.route(command);
    if (!route) throw new MissingCommandHandlerError(command.constructor.name);
    const { model, binding } = route;
    const aggregateId = model.targetIdOf(command, binding);
    if (aggregateId === undefined) throw new MissingTargetAggregateIdError(command.constructor.name, `${model.target.name}.${binding.method}`);
    const current = this.current(owner, outgoing, model.type, aggregateId);
    const expected = readHeader(message.headers, HEADER.expectedVersion);
    if (expected !== undefined && Number(expected) !== (current?.version ?? 0)) {
      throw new WrongExpectedVersionError(model.type, aggregateId, Number(expected), current?.version ?? 0);
    }

    let aggregate: AggregateRoot;
    if (binding.creates) {
      if (current) throw new AggregateAlreadyExistsError(model.type, aggregateId);
      aggregate = await model.create(command, binding);
      if (model.idOf(aggregate) !== aggregateId) {
        throw new InvalidHandlerResultError(
          `${model.target.name}.${binding.method}`,
          `created ${model.type} '${model.idOf(aggregate)}' for a command addressed to '${aggregateId}'; they must match`,
        );
      }
    } else {
      if (!current) throw new AggregateNotFoundError(model.type, aggregateId);
      aggregate = model.fromSnapshot(current.state, current.version);
      await model.handle(aggregate, command, binding);
    }

    const base = current?.version ?? 0;
    const events = aggregate.getUncommittedEvents();
    const correlationId = readHeader(message.headers, HEADER.correlationId) ?? commandId;
    const metadata = readMetadata(message.headers);
    const occurredAt = new Date();
    const replyEvents = [];
    for (const [index, event] of events.entries()) {
      const declared = this.domain.eventRegistry.describe(event)!;
      const envelope = {
        eventId: randomUUID(),
        type: declared.type,
        schemaVersion: declared.version,
        aggregateType: model.type,
        aggregateId,
        sequence: base + index + 1,
        occurredAt,
        correlationId,
        causationId: commandId,
        metadata,
      };
      const payload = this.domain.eventRegistry.toData(event);
      const topic = this.layout.events(model.type);
      const value = await this.options.serializer.serialize(payload, { topic, type: envelope.type, schemaVersion: envelope.schemaVersion });
      if (envelope.sequence === 1) outgoing.firstEvents.set(`${model.type}\u0000${aggregateId}`, { topic, index: outgoing.events.get(topic)?.length ?? 0 });
      add(outgoing.events, topic, {
        key: `${aggregateId}:${envelope.sequence}`,
        partition,
        value: Buffer.from(value.buffer, value.byteOffset, value.byteLength),
        headers: envelopeHeaders(envelope, this.options.serializer.contentType),
      });
      replyEvents.push({ eventId: envelope.eventId, type: envelope.type, schemaVersion: envelope.schemaVersion, sequence: envelope.sequence, occurredAt: occurredAt.toISOString(), payload });
    }
    if (events.length > 0) {
      this.writeSnapshot(outgoing, model, aggregateId, {
        version: base + events.length,
        state: model.toSnapshot(aggregate),
        ...(current?.firstOffset === undefined ? {} : { firstOffset: current.firstOffset }),
      });
    }
    return { commandId, status: 'ok', aggregateType: model.type, aggregateId, version: base + events.length, events: replyEvents };
  }

  /**
   * `load` answers with the snapshot; `erase` tombstones every event key and the
   * snapshot; `append` writes events to a plain stream if it is at the expected
   * version (the EventStore seam: streams declared in `streams`, not aggregates,
   * whose appends go through their command handlers).
   */
  private async handleStreamRequest(request: ProcessorRequest, owner: PartitionOwner, message: KafkaMessage, commandId: string, outgoing: Outgoing): Promise<CommandReply> {
    const streamType = readHeader(message.headers, HEADER.aggregateType) ?? '';
    const streamId = message.key?.toString('utf8') ?? '';
    if (!this.domain.modelOfType(streamType) && !this.streamTypes.has(streamType)) {
      throw new InvalidOptionError(`${request} of unknown stream type '${streamType}'; register its aggregate, or list it in the processor's \`streams\``);
    }
    const current = this.current(owner, outgoing, streamType, streamId);
    if (request === 'append') return this.append(owner, message, commandId, outgoing, streamType, streamId, current);
    if (!current) throw new AggregateNotFoundError(streamType, streamId);
    if (request === 'load') {
      return { commandId, status: 'ok', aggregateType: streamType, aggregateId: streamId, version: current.version, events: [], snapshot: current };
    }
    if (request !== 'erase') throw new InvalidOptionError(`Unknown request '${request}'`);
    for (let sequence = 1; sequence <= current.version; sequence += 1) {
      add(outgoing.events, this.layout.events(streamType), { key: `${streamId}:${sequence}`, partition: owner.partition, value: null });
    }
    outgoing.overlay.set(`${streamType}\u0000${streamId}`, null);
    return { commandId, status: 'ok', aggregateType: streamType, aggregateId: streamId, version: 0, events: [] };
  }

  private async append(
    owner: PartitionOwner,
    message: KafkaMessage,
    commandId: string,
    outgoing: Outgoing,
    streamType: string,
    streamId: string,
    current: AggregateSnapshot | undefined,
  ): Promise<CommandReply> {
    if (!this.streamTypes.has(streamType)) {
      throw new InvalidOptionError(`${streamType} is an aggregate: change it with commands, not raw appends`);
    }
    const expected = Number(readHeader(message.headers, HEADER.expectedVersion));
    const actual = current?.version ?? 0;
    if (expected !== actual) throw new WrongExpectedVersionError(streamType, streamId, expected, actual);
    const events = JSON.parse(message.value?.toString('utf8') ?? '[]') as Array<Omit<NewEvent, 'occurredAt'> & { occurredAt: string }>;
    const topic = this.layout.events(streamType);
    const replyEvents: ReplyEvent[] = [];
    for (const [index, event] of events.entries()) {
      const sequence = actual + index + 1;
      const envelope = { ...event, aggregateType: streamType, aggregateId: streamId, sequence, occurredAt: new Date(event.occurredAt) };
      const value = await this.options.serializer.serialize(event.payload, { topic, type: event.type, schemaVersion: event.schemaVersion });
      if (sequence === 1) outgoing.firstEvents.set(`${streamType}\u0000${streamId}`, { topic, index: outgoing.events.get(topic)?.length ?? 0 });
      add(outgoing.events, topic, {
        key: `${streamId}:${sequence}`,
        partition: owner.partition,
        value: Buffer.from(value.buffer, value.byteOffset, value.byteLength),
        headers: envelopeHeaders(envelope, this.options.serializer.contentType),
      });
      replyEvents.push({ eventId: event.eventId, type: event.type, schemaVersion: event.schemaVersion, sequence, occurredAt: event.occurredAt, payload: event.payload });
    }
    if (events.length > 0) {
      outgoing.overlay.set(`${streamType}\u0000${streamId}`, {
        version: actual + events.length,
        state: {},
        ...(current?.firstOffset === undefined ? {} : { firstOffset: current.firstOffset }),
      });
    }
    return { commandId, status: 'ok', aggregateType: streamType, aggregateId: streamId, version: actual + events.length, events: replyEvents };
  }

  private current(owner: PartitionOwner, outgoing: Outgoing, aggregateType: string, aggregateId: string): AggregateSnapshot | undefined {
    const key = `${aggregateType}\u0000${aggregateId}`;
    return outgoing.overlay.has(key) ? outgoing.overlay.get(key) ?? undefined : owner.store.get(aggregateType, aggregateId);
  }

  private writeSnapshot(outgoing: Outgoing, model: AggregateModel, aggregateId: string, snapshot: AggregateSnapshot | null): void {
    outgoing.overlay.set(`${model.type}\u0000${aggregateId}`, snapshot);
  }

  /** Every event of one partition's topic goes in one record batch, so offsets follow the batch's base offset. */
  private noteFirstOffsets(outgoing: Outgoing, sent: RecordMetadata[]): void {
    const bases = new Map(sent.map((metadata) => [metadata.topicName, BigInt(metadata.baseOffset ?? '-1')]));
    for (const [key, { topic, index }] of outgoing.firstEvents) {
      const snapshot = outgoing.overlay.get(key);
      const base = bases.get(topic);
      if (snapshot && base !== undefined && base >= 0n) outgoing.overlay.set(key, { ...snapshot, firstOffset: (base + BigInt(index)).toString() });
    }
  }

  private addSnapshots(outgoing: Outgoing, partition: number): void {
    for (const [key, snapshot] of outgoing.overlay) {
      const [aggregateType, aggregateId] = key.split('\u0000');
      add(outgoing.records, this.layout.snapshots(aggregateType), {
        key: aggregateId,
        partition,
        value: snapshot === null ? null : JSON.stringify(snapshot),
        headers: { [HEADER.aggregateType]: aggregateType },
      });
    }
  }

}

/** The registry of every command the domain handles; over Kafka each needs a `@Command` name and a target id. */
export function commandRegistryFor(domain: DomainModel, component: string): CommandRegistry {
  const registry = new CommandRegistry();
  for (const commandClass of domain.commandClasses) {
    registry.register(commandClass, component);
    const { model, binding } = domain.route(Object.create(commandClass.prototype))!;
    if (!binding.targetIdProperty) {
      // Kafka routes a command to its aggregate's partition before any handler runs.
      throw new MissingTargetAggregateIdError(commandClass.name, `${model.target.name}.${binding.method}`);
    }
  }
  return registry;
}

function add(records: Map<string, Message[]>, topic: string, message: Message): void {
  const list = records.get(topic) ?? [];
  list.push(message);
  records.set(topic, list);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export async function withTimeout<T>(promise: Promise<T>, ms: number, timeoutError: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(timeoutError()), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

