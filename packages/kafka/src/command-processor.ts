import { AggregateRoot, Constructor, DomainModel, EventPipeline, InvalidOptionError, shapeVersionOf } from '@tributary/core';
import { Admin, Consumer, EachBatchPayload, Kafka, KafkaMessage, Producer, logLevel } from 'kafkajs';
import { toTributaryError } from './broker-error-map';
import { KafkaOperationError, ProducerFencedError } from './errors/kafka.errors';
import { CommandTooLargeError, GroupJoinTimeoutError } from './errors/processor.errors';
import { Instrumentation, ProcessorEventName, ProcessorEvents } from './instrumentation';
import { BatchedSender } from './batched-sender';
import { commandRegistryFor } from './kafka-command-registry';
import { partitionForKey } from './murmur2';
import { PartitionOwner, PartitionOwners } from './partition-owners';
import { stateCheckpoint } from './partition-restorer';
import { PendingTransaction } from './pending-transaction';
import { CommandProcessorOptions, ResolvedProcessorOptions, resolveProcessorOptions } from './processor-options';
import { RequestHandlers } from './request-handlers';
import { stopOnSignals } from './stop-on-signals';
import { TopicLayout } from './topic-layout';
import { connectAdmin, provisionTopics } from './topic-provisioner';
import { sleep, withTimeout } from './with-timeout';

/** How many transactions' worth of commands a partition may queue before its fetching pauses. */
const QUEUED_TRANSACTIONS = 4;

/** The commands fetched for one partition and not yet decided, for one owner. */
class PartitionQueue {
  readonly messages: KafkaMessage[] = [];
  /** The offset after the last command queued: where the partition's next batch must begin. */
  nextOffset: bigint;
  /** The loop that decides the queue, while it runs. */
  draining?: Promise<void>;
  /** Resumes the partition's fetching, while it is paused. */
  resume?: () => void;

  constructor(readonly owner: PartitionOwner) {
    this.nextOffset = owner.nextOffset;
  }
}

/** How often the group offsets follow the checkpoints (see commitGroupOffsets). */
const GROUP_OFFSET_INTERVAL_MS = 1_000;

/** The broker's answers to records too large for one batch: the transaction is aborted whole, and retried in parts. */
const TOO_LARGE = new Set(['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE']);

/**
 * The single writer of the partitions it owns. Processors form one consumer group
 * over the commands topic; owning command partition p makes a processor the only
 * writer of partition p of every other topic of the app.
 *
 * On assignment of p it connects the transactional producer `<prefix>-cmd-<p>`,
 * which fences any previous owner, restores p's state from the snapshots topics
 * (rebuilding from their events any aggregates whose state has another shape
 * than today's code) and resumes from the checkpoint stored there. Each batch of
 * commands then commits in one transaction: the events, the new snapshots and
 * the checkpoint; the replies go out after the commit. A command joins the
 * transaction whole or not at all; local state changes only after the commit.
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
  private readonly options: ResolvedProcessorOptions;
  private readonly instrumentation = new Instrumentation();
  private readonly kafka: Kafka;
  private readonly handlers: RequestHandlers;
  private readonly owners: PartitionOwners;
  private readonly snapshotTopics: readonly string[];
  private admin?: Admin;
  private consumer?: Consumer;
  /** Sends replies after each commit, outside the transactions (see PendingTransaction.replies). */
  private replyProducer?: Producer;
  /** Replies of transactions that commit while a send is in flight go together in the next. */
  private replies?: BatchedSender;
  private disposeSignalHandlers?: () => void;
  private stopping?: Promise<void>;
  /** Checkpoints committed since the group offsets were last committed, by partition. */
  private readonly progress = new Map<number, string>();
  private progressTimer?: NodeJS.Timeout;
  /** Each partition's commands fetched and not yet decided. */
  private readonly queues = new Map<number, PartitionQueue>();
  /** Set by stop(): the transactions in hand finish, no new one begins. */
  private closing = false;

  constructor(options: CommandProcessorOptions) {
    this.options = resolveProcessorOptions(options);
    const { layout, serializer } = this.options;
    this.layout = layout;
    this.domain = new DomainModel(this.options.aggregates, this.options.events);
    const streamTypes = [...new Set([...this.domain.models.map((model) => model.type), ...this.options.streams])];
    this.snapshotTopics = streamTypes.map((type) => layout.snapshots(type));
    this.kafka = new Kafka({ logLevel: logLevel.NOTHING, ...this.options.kafkaConfig, brokers: [...this.options.brokers] });
    const shapes = new Map(this.domain.models.map((model) => [model.type, shapeVersionOf(model)]));
    this.handlers = new RequestHandlers(
      {
        layout,
        domain: this.domain,
        commands: commandRegistryFor(this.domain, 'CommandProcessor'),
        serializer,
        shapes,
        decidedCommandsPerAggregate: this.options.decidedCommandsPerAggregate,
      },
      this.options.streams,
    );
    this.owners = new PartitionOwners({
      kafka: this.kafka,
      admin: () => this.admin!,
      layout,
      domain: this.domain,
      pipeline: new EventPipeline({ registry: this.domain.eventRegistry, upcasters: this.options.upcasters, serializer }),
      shapes,
      snapshotTopics: this.snapshotTopics,
      stateStore: this.options.stateStore,
      restoreTimeoutMs: this.options.restoreTimeoutMs,
      heartbeatIntervalMs: this.options.heartbeatIntervalMs,
      instrumentation: this.instrumentation,
    });
  }

  /** Subscribes to instrumentation events, e.g. `processor.transaction-committed`. Returns an unsubscribe function. */
  on<E extends ProcessorEventName>(event: E, listener: (payload: ProcessorEvents[E]) => void): () => void {
    return this.instrumentation.on(event, listener);
  }

  /** The command partitions this processor owns right now. */
  ownedPartitions(): number[] {
    return this.owners.owned();
  }

  /**
   * Checks and creates the topics, joins the processors' group and starts
   * processing. Resolves once the group has given this processor its partitions.
   * If it fails, everything it opened is closed again.
   *
   * @throws {@link BrokerUnreachableError}, {@link TopicWouldLoseHistoryError},
   *   {@link PartitionCountMismatchError}, {@link TopicMissingError}, {@link GroupJoinTimeoutError}
   */
  async start(): Promise<void> {
    if (this.admin || this.consumer) throw new InvalidOptionError('CommandProcessor is already started');
    this.closing = false;
    const { startupTimeoutMs } = this.options;
    try {
      this.admin = await connectAdmin(this.options.brokers, this.options.kafkaConfig, startupTimeoutMs);
      await provisionTopics(this.admin, this.layout, this.streamTypeNames(), { create: this.options.createTopics });
      // Before taking any command: a registry-backed serializer refuses history it could not read.
      await this.options.serializer.prepare?.({
        topics: this.domain.models.map((model) => ({ topic: this.layout.events(model.type), eventClasses: model.eventClasses })),
      });
      const replyProducer = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
      await replyProducer.connect();
      this.replyProducer = replyProducer;
      this.replies = new BatchedSender((messages) => replyProducer.send({ topic: this.layout.replies, acks: -1, messages }).then(() => undefined));
      const consumer = this.kafka.consumer({
        groupId: this.layout.commandGroupId,
        readUncommitted: false,
        allowAutoTopicCreation: false,
        sessionTimeout: this.options.sessionTimeoutMs,
        heartbeatInterval: this.options.heartbeatIntervalMs,
        maxWaitTimeInMs: 20,
      });
      this.consumer = consumer;
      const joined = new Promise<void>((resolve) => {
        consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
          const partitions = [...(payload.memberAssignment[this.layout.commands] ?? [])].sort((a, b) => a - b);
          const rejoined = this.owners.assign(payload.memberId, partitions);
          this.instrumentation.emit('processor.group-joined', () => ({ memberId: payload.memberId, partitions, rejoined }));
          resolve();
        });
      });
      await consumer.connect();
      await consumer.subscribe({ topic: this.layout.commands, fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: this.options.partitions,
        eachBatch: (payload) => this.processBatch(payload),
      });
      await withTimeout(joined, startupTimeoutMs * 3, () => new GroupJoinTimeoutError(this.layout.commandGroupId, startupTimeoutMs * 3));
      this.progressTimer = setInterval(() => void this.commitGroupOffsets(), GROUP_OFFSET_INTERVAL_MS).unref();
      if (this.options.stopOnSignals.length > 0) this.disposeSignalHandlers = stopOnSignals(() => this.stop(), this.options.stopOnSignals);
    } catch (error) {
      await this.stop();
      throw error;
    }
  }

  /**
   * Stops consuming (the transaction in hand commits first), leaves the group so
   * the partitions move at once, and closes every partition's producer. Safe to
   * call more than once, and after a failed start.
   */
  stop(): Promise<void> {
    // Every caller waits for the one stop in progress: a process that exits when its own
    // stop() returns must not cut short the group leave another caller began.
    this.stopping ??= this.shutDown().finally(() => (this.stopping = undefined));
    return this.stopping;
  }

  private async shutDown(): Promise<void> {
    this.disposeSignalHandlers?.();
    this.disposeSignalHandlers = undefined;
    // The transactions in hand commit; nothing more is queued or decided. Then the group is left.
    this.closing = true;
    await Promise.all([...this.queues.values()].map((queue) => queue.draining));
    this.queues.clear();
    const { consumer, admin, replyProducer } = this;
    clearInterval(this.progressTimer);
    await this.commitGroupOffsets();
    this.consumer = undefined;
    this.admin = undefined;
    await consumer?.disconnect().catch(() => undefined);
    await this.replies?.flushed();
    this.replies = undefined;
    this.replyProducer = undefined;
    await replyProducer?.disconnect().catch(() => undefined);
    await this.owners.releaseAll('stop');
    await admin?.disconnect().catch(() => undefined);
  }

  /** The aggregate as this processor holds it, if it owns the aggregate's partition. For diagnostics and tests. */
  async localState<T extends AggregateRoot>(aggregateClass: Constructor<T>, aggregateId: string): Promise<T | undefined> {
    const model = this.domain.modelOfClass(aggregateClass);
    if (!model) throw new InvalidOptionError(`${aggregateClass.name} is not registered with this processor`);
    const owner = await this.owners.peek(partitionForKey(aggregateId, this.options.partitions))?.catch(() => undefined);
    const snapshot = owner?.store.get(model.type, aggregateId);
    return snapshot && snapshot.version > 0 ? model.fromSnapshot(snapshot.state, snapshot.version) : undefined;
  }

  /** Every stream type this processor writes: its aggregates' and its plain streams'. */
  private streamTypeNames(): string[] {
    return [...new Set([...this.domain.models.map((model) => model.type), ...this.options.streams])];
  }

  /**
   * Hands a fetched batch to its partition's queue and returns at once, so
   * kafkajs fetches on while the partition's transactions commit: commands
   * that arrive during a transaction wait in the queue and go together in the
   * next one, and no partition waits for another's transaction. Fetching
   * pauses while a queue holds more than a few transactions' worth.
   */
  private async processBatch({ batch, resolveOffset, heartbeat, isRunning, pause }: EachBatchPayload): Promise<void> {
    const partition = batch.partition;
    if (this.closing) return;
    if (this.owners.isFenced(partition)) await this.owners.recover(partition, heartbeat, isRunning);
    let owner: PartitionOwner | undefined;
    try {
      owner = await this.owners.acquire(partition);
    } catch (error) {
      // The commands stay unresolved: kafkajs hands them over again after the pause.
      await this.pause(this.owners.failed(partition, error), heartbeat, isRunning);
      return;
    }
    if (!owner) {
      // Fenced or no longer assigned: leave the commands to the new owner and
      // wait for the rebalance, without spinning on refetches.
      await sleep(100);
      return;
    }
    let queue = this.queues.get(partition);
    if (queue?.owner !== owner) {
      queue = new PartitionQueue(owner);
      this.queues.set(partition, queue);
    }
    const first = BigInt(batch.messages[0].offset);
    if (first > queue.nextOffset) {
      // The group offset is ahead of where deciding resumes; the checkpoint is the truth.
      this.consumer!.seek({ topic: batch.topic, partition, offset: queue.nextOffset.toString() });
      return;
    }
    // The group offset can lag the checkpoint (it is committed after the transactions, and kafkajs
    // has no KIP-447), and a rejoin fetches from it again: commands below what is queued are skipped.
    for (const message of batch.messages) {
      if (BigInt(message.offset) < queue.nextOffset) continue;
      queue.messages.push(message);
      queue.nextOffset = BigInt(message.offset) + 1n;
    }
    resolveOffset(batch.messages[batch.messages.length - 1].offset);
    this.drain(queue);
    if (queue.messages.length > QUEUED_TRANSACTIONS * this.options.maxCommandsPerTransaction && !queue.resume) queue.resume = pause();
  }

  /** Decides and commits a partition's queued commands, a transaction at a time, while its owner holds it. */
  private drain(queue: PartitionQueue): void {
    queue.draining ??= (async () => {
      const { owner } = queue;
      while (queue.messages.length > 0 && !this.closing && this.owners.holds(owner)) {
        const chunk = queue.messages.splice(0, this.options.maxCommandsPerTransaction);
        const outcome = await this.commitInParts(owner, chunk);
        if (outcome !== 'committed') return this.abandon(queue, outcome);
        if (queue.resume && queue.messages.length <= this.options.maxCommandsPerTransaction) {
          queue.resume();
          queue.resume = undefined;
        }
      }
    })()
      .catch((error: unknown) => this.abandon(queue, 'failed', error))
      .finally(() => (queue.draining = undefined));
  }

  /**
   * Gives up a partition's queue after a transaction failed: what was fetched
   * past the checkpoint is fetched again, for the next owner (this processor,
   * taking the partition over anew, or another).
   */
  private async abandon(queue: PartitionQueue, outcome: 'fenced' | 'failed', error?: unknown): Promise<void> {
    const { owner } = queue;
    queue.messages.length = 0;
    if (this.queues.get(owner.partition) === queue) this.queues.delete(owner.partition);
    queue.resume?.();
    queue.resume = undefined;
    if (error !== undefined) this.instrumentation.emit('processor.transaction-aborted', () => ({ partition: owner.partition, error: toTributaryError(error, { operation: `deciding commands of partition ${owner.partition}` }) }));
    try {
      this.consumer?.seek({ topic: this.layout.commands, partition: owner.partition, offset: owner.nextOffset.toString() });
    } catch {
      // No longer assigned: the next owner starts from the checkpoint anyway.
    }
    // Fenced: another process took the partition; whether it may is for the group to say (see PartitionOwners.recover).
    // Failed: the producer may be wedged after a failed commit or abort, so the partition is taken over anew.
    if (outcome === 'fenced') await this.owners.fenced(owner.partition);
    else await this.owners.release(owner.partition, 'failed');
  }

  /**
   * Commits a chunk, in halves if the broker refuses its records as too large
   * for one batch (large states, many commands), down to single commands; a
   * single command still too large is refused with {@link CommandTooLargeError}.
   */
  private async commitInParts(owner: PartitionOwner, chunk: KafkaMessage[]): Promise<'committed' | 'fenced' | 'failed'> {
    const outcome = await this.commit(owner, chunk);
    if (outcome !== 'too-large') return outcome;
    if (chunk.length === 1) {
      const refusal = await this.commit(owner, chunk, true);
      return refusal === 'too-large' ? 'failed' : refusal;
    }
    const half = Math.ceil(chunk.length / 2);
    const first = await this.commitInParts(owner, chunk.slice(0, half));
    return first === 'committed' ? this.commitInParts(owner, chunk.slice(half)) : first;
  }

  /**
   * Decides one chunk of requests and commits it in one transaction; with
   * `tooLarge`, refuses its one request with {@link CommandTooLargeError} instead.
   */
  private async commit(owner: PartitionOwner, chunk: KafkaMessage[], tooLarge = false): Promise<'committed' | 'fenced' | 'failed' | 'too-large'> {
    const { partition } = owner;
    const pending = new PendingTransaction(owner.store, this.layout, partition);
    for (const message of chunk) {
      pending.add(tooLarge ? this.handlers.refuse(partition, message, new CommandTooLargeError(`Command at ${this.layout.commands}/${partition}@${message.offset}`)) : await this.handlers.handle(partition, message, pending));
    }
    const nextCommandOffset = (BigInt(chunk[chunk.length - 1].offset) + 1n).toString();
    try {
      await pending.commit(owner.producer, nextCommandOffset, () =>
        this.instrumentation.emit('processor.transaction-sent', () => ({
          partition,
          commands: chunk.length,
          firstOffset: chunk[0].offset,
          lastOffset: chunk[chunk.length - 1].offset,
        })),
      );
    } catch (error) {
      const mapped = toTributaryError(error, { operation: `committing commands of partition ${partition}`, transactionalId: this.layout.transactionalId(partition) });
      this.instrumentation.emit('processor.transaction-aborted', () => ({ partition, error: mapped }));
      if (mapped instanceof ProducerFencedError) return 'fenced';
      return mapped instanceof KafkaOperationError && TOO_LARGE.has(mapped.brokerErrorType) ? 'too-large' : 'failed';
    }
    this.instrumentation.emit('processor.transaction-committed', () => ({ partition, commands: chunk.length, nextCommandOffset }));
    this.sendReplies(pending);
    pending.applyTo(owner.store);
    // A durable store persists the changes with the checkpoint they reach.
    owner.store.commit?.(stateCheckpoint(nextCommandOffset, this.snapshotTopics));
    owner.nextOffset = BigInt(nextCommandOffset);
    this.progress.set(partition, nextCommandOffset);
    return 'committed';
  }

  /**
   * Commits the group offsets of the checkpoints reached since the last time,
   * outside any transaction. They are only where fetching resumes after a
   * rebalance (the checkpoint, committed in each transaction, says where
   * deciding resumes; see processBatch): committing them in each transaction
   * would cost it two more round trips to the broker (AddOffsetsToTxn,
   * TxnOffsetCommit). A failure (a rebalance under way) leaves them for later.
   */
  private async commitGroupOffsets(): Promise<void> {
    const consumer = this.consumer;
    if (!consumer || this.progress.size === 0) return;
    const offsets = [...this.progress].map(([partition, offset]) => ({ topic: this.layout.commands, partition, offset }));
    this.progress.clear();
    await consumer.commitOffsets(offsets).catch(() => undefined);
  }

  /**
   * Sends a committed transaction's replies, without holding up the next batch.
   * A reply that cannot be sent is dropped: its caller times out, and its retry
   * with the same command id is answered with the kept decision.
   */
  private sendReplies(pending: PendingTransaction): void {
    const { replies } = this;
    if (!replies) return;
    for (const reply of pending.replies) {
      replies.enqueue(reply).catch((error: unknown) =>
        this.instrumentation.emit('processor.reply-failed', () => ({
          partition: pending.partition,
          replies: 1,
          error: toTributaryError(error, { operation: 'sending replies', topic: this.layout.replies }),
        })),
      );
    }
  }

  /** Waits `ms` inside a batch, heartbeating so the group keeps this member, and ends early at stop. */
  private async pause(ms: number, heartbeat: () => Promise<void>, isRunning: () => boolean): Promise<void> {
    const until = Date.now() + ms;
    while (isRunning() && Date.now() < until) {
      await sleep(Math.min(this.options.heartbeatIntervalMs, until - Date.now()));
      await heartbeat();
    }
  }
}
