import { randomUUID } from 'node:crypto';
import {
  AggregateRoot,
  CommandOutcome,
  CommandRegistry,
  CommandResult,
  Constructor,
  DomainModel,
  EventEnvelope,
  ExecuteOptions,
  InvalidOptionError,
  MissingCommandHandlerError,
  RetryPolicy,
  retryPolicy,
  withRetry,
} from '@tributary/core';
import { Admin, Consumer, Kafka, Producer, logLevel } from 'kafkajs';
import { commandRegistryFor } from './kafka-command-registry';
import { withTimeout } from './with-timeout';
import { BatchedSender } from './batched-sender';
import { CommandReply, ErrorReviver } from './command-reply';
import { toTributaryError } from './broker-error-map';
import { CommandTimeoutError, GroupJoinTimeoutError } from './errors/processor.errors';
import { KafkaConnectionOptions, ResolvedConnectionOptions, resolveConnectionOptions } from './kafka-options';
import { partitionForKey } from './murmur2';
import { exactlyPartition } from './partition-restorer';
import { HEADER, metadataHeaders } from './record-headers';
import { connectAdmin } from './topic-provisioner';
import { TopicLayout } from './topic-layout';
import { fetchTopicOffsets } from './topic-offsets';

/** Options of {@link KafkaCommandBus}. */
export interface KafkaCommandBusOptions extends KafkaConnectionOptions {
  /** How long `execute` waits for the processor's reply. Defaults to 30 000 ms. */
  readonly commandTimeoutMs?: number;
  /** Your `DomainError` classes, so errors thrown in a processor come back as instances of them. */
  readonly domainErrors?: ReadonlyArray<abstract new (...args: never[]) => Error>;
  /**
   * Send a command again, with the same command id, when no reply came in time
   * or the processor failed it with a retriable error (a registry that was
   * down). Safe because processors decide each command id once. Off by default;
   * each `execute` may turn it on or off with its own `retry`.
   */
  readonly retry?: Partial<RetryPolicy>;
}

/** Options of one {@link KafkaCommandBus.execute} call. */
export interface KafkaExecuteOptions extends ExecuteOptions {
  /** Refuse the command unless the aggregate is at this version (optimistic concurrency from a UI). */
  readonly expectedVersion?: number;
  /** How long to wait for the reply to each attempt. Defaults to the bus's `commandTimeoutMs`. */
  readonly timeoutMs?: number;
  /**
   * Send the command again with the same id after a timeout or a retriable
   * failure, by this policy (`false`: never). Defaults to the bus's `retry`.
   * When the retries run out, {@link RetriesExhaustedError} wraps the last error.
   */
  readonly retry?: Partial<RetryPolicy> | false;
}

type ReplyWaiter = (reply: CommandReply) => void;

/**
 * Sends commands to the command processors of an app, from any process, and
 * waits for their outcome. A command goes to the partition of its target
 * aggregate (Java-compatible murmur2 of the id); the processor that owns that
 * partition decides it, commits its events, and replies in the same transaction,
 * so a reply means the events are durably written.
 *
 * @example
 * ```ts
 * const bus = new KafkaCommandBus({ app: 'shop', brokers: ['localhost:9092'], aggregates: [Order] });
 * await bus.start();
 * const { events } = await bus.execute(new CreateOrder('o-1', 'c-7'));
 * const order = await bus.load(Order, 'o-1');
 * await bus.stop();
 * ```
 */
export class KafkaCommandBus {
  readonly layout: TopicLayout;
  readonly domain: DomainModel;
  private readonly options: ResolvedConnectionOptions & { commandTimeoutMs: number; retry?: RetryPolicy };
  private readonly commands: CommandRegistry;
  private readonly reviver: ErrorReviver;
  private readonly kafka: Kafka;
  private readonly clientId = `client-${randomUUID()}`;
  /** Who waits for the reply to each command id: several, when one id is sent again or twice at once. */
  private readonly waiting = new Map<string, Set<ReplyWaiter>>();
  private admin?: Admin;
  private producer?: Producer;
  private sender?: BatchedSender;
  private consumer?: Consumer;

  constructor(options: KafkaCommandBusOptions) {
    const connection = resolveConnectionOptions(options, 'KafkaCommandBus');
    const commandTimeoutMs = options.commandTimeoutMs ?? 30_000;
    if (!(commandTimeoutMs > 0)) throw new InvalidOptionError(`KafkaCommandBus option commandTimeoutMs must be positive, got ${commandTimeoutMs}`);
    this.options = { ...connection, commandTimeoutMs, retry: options.retry === undefined ? undefined : retryPolicy(options.retry) };
    this.domain = new DomainModel(connection.aggregates);
    this.commands = commandRegistryFor(this.domain, 'KafkaCommandBus');
    this.reviver = new ErrorReviver(options.domainErrors);
    this.layout = connection.layout;
    this.kafka = new Kafka({ logLevel: logLevel.NOTHING, ...connection.kafkaConfig, brokers: [...connection.brokers] });
  }

  /** Connects, and starts listening for replies from the end of the replies topic. */
  async start(): Promise<void> {
    const { startupTimeoutMs } = this.options;
    this.admin = await connectAdmin(this.options.brokers, this.options.kafkaConfig, startupTimeoutMs);
    const producer = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
    await producer.connect();
    this.producer = producer;
    // Commands sent while a send is in flight go together in the next: one round trip for many callers.
    this.sender = new BatchedSender((messages) => producer.send({ topic: this.layout.commands, acks: -1, messages }).then(() => undefined));

    // Our replies land on one partition, keyed by our id. Reading starts at that
    // partition's end as it is now, before we send anything, so none of our
    // replies can be missed; earlier records are never ours.
    const partition = partitionForKey(this.clientId, this.options.partitions);
    const groupId = this.repliesGroupId;
    const offsets = await fetchTopicOffsets(this.admin, this.layout.replies);
    const end = offsets.find((entry) => entry.partition === partition)!.high;

    const consumer = this.kafka.consumer({
      groupId,
      readUncommitted: false,
      allowAutoTopicCreation: false,
      partitionAssigners: [exactlyPartition(partition)],
      maxWaitTimeInMs: 10,
    });
    this.consumer = consumer;
    const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
    await consumer.connect();
    await consumer.subscribe({ topic: this.layout.replies, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ message }) => {
        if (message.key?.toString('utf8') !== this.clientId || !message.value) return;
        const reply = JSON.parse(message.value.toString('utf8')) as CommandReply;
        for (const waiter of this.waiting.get(reply.commandId) ?? []) waiter(reply);
      },
    });
    // admin.setOffsets would run a consumer of its own for seconds; a seek right after run is applied at the next fetch.
    consumer.seek({ topic: this.layout.replies, partition, offset: end });
    await withTimeout(joined, startupTimeoutMs * 3, () => new GroupJoinTimeoutError(groupId, startupTimeoutMs * 3));
  }

  /** Stops listening and disconnects; pending commands fail with {@link CommandTimeoutError} as their time runs out. */
  async stop(): Promise<void> {
    await this.sender?.flushed();
    await this.consumer?.disconnect().catch(() => undefined);
    await this.producer?.disconnect().catch(() => undefined);
    await this.admin?.deleteGroups([this.repliesGroupId]).catch(() => undefined);
    await this.admin?.disconnect().catch(() => undefined);
  }

  /** The throwaway group this client reads its replies with. */
  private get repliesGroupId(): string {
    return `${this.layout.prefix}-replies-${this.clientId}`;
  }

  /**
   * Sends a command and waits until its events are committed.
   *
   * A command is decided once per command id: give `commandId` and sending it
   * again (after a timeout, a crash, from another process) is safe. A repeat
   * is answered with the first decision: its error thrown again, or a result
   * with `deduplicated: true` and no events.
   *
   * @returns the committed events (payloads as instances) and the aggregate's new version.
   * @throws the processor's error, rebuilt as its class: your `DomainError`s (given in
   *   `domainErrors`), {@link AggregateNotFoundError}, {@link WrongExpectedVersionError} …;
   *   {@link CommandTimeoutError} if no reply comes in time (retriable: send it again with the
   *   same id, or ask {@link KafkaCommandBus.outcome}); with `retry`, {@link RetriesExhaustedError}
   *   wrapping the last error when the retries run out.
   */
  async execute(command: object, options: KafkaExecuteOptions = {}): Promise<CommandResult> {
    const route = this.domain.route(command);
    if (!route) throw new MissingCommandHandlerError(command?.constructor?.name ?? String(command));
    const aggregateId = route.model.targetIdOf(command, route.binding)!;
    if (options.expectedVersion !== undefined && !(Number.isSafeInteger(options.expectedVersion) && options.expectedVersion >= 0)) {
      throw new InvalidOptionError(`expectedVersion must be a whole number of 0 or more, got ${options.expectedVersion}`);
    }
    const timeoutMs = options.timeoutMs ?? this.options.commandTimeoutMs;
    if (!(timeoutMs > 0)) throw new InvalidOptionError(`timeoutMs must be positive, got ${timeoutMs}`);
    // The same id on every attempt: that is what lets the processor decide the command once.
    const commandId = options.commandId ?? randomUUID();
    const correlationId = options.correlationId ?? commandId;
    const send = () =>
      this.request(
        command.constructor.name,
        commandId,
        aggregateId,
        {
          value: JSON.stringify(this.commands.toData(command)),
          headers: {
            [HEADER.commandType]: this.commands.nameOf(command)!,
            [HEADER.correlationId]: correlationId,
            ...(options.expectedVersion === undefined ? {} : { [HEADER.expectedVersion]: String(options.expectedVersion) }),
            ...metadataHeaders(options.metadata ?? {}),
          },
        },
        timeoutMs,
      );
    const policy = options.retry === false ? undefined : options.retry === undefined ? this.options.retry : retryPolicy(options.retry);
    const reply = policy ? await withRetry(`Command ${command.constructor.name} (command id ${commandId})`, policy, send) : await send();
    const metadata = { ...options.metadata };
    const events: EventEnvelope<object>[] = reply.events.map((event) => ({
      eventId: event.eventId,
      type: event.type,
      schemaVersion: event.schemaVersion,
      aggregateType: reply.aggregateType,
      aggregateId: reply.aggregateId,
      sequence: event.sequence,
      occurredAt: new Date(event.occurredAt),
      correlationId,
      causationId: commandId,
      metadata,
      payload: this.domain.eventRegistry.fromData(event.type, event.schemaVersion, event.payload, `Reply to ${commandId}`),
    }));
    return {
      aggregateType: reply.aggregateType,
      aggregateId: reply.aggregateId,
      version: reply.version,
      events,
      ...(reply.deduplicated ? { deduplicated: true } : {}),
    };
  }

  /**
   * What became of a command, by its id, for a caller that lost the reply: asks
   * the owner of the aggregate's partition. Requests on a partition are handled
   * in the order they arrive, so for a command this bus sent before asking the
   * answer is final: `succeeded` or `failed`, or `unknown` if it was never
   * received, or was decided so long ago that the aggregate no longer keeps it
   * (more than `decidedCommandsPerAggregate` commands ago).
   */
  async outcome<T extends AggregateRoot>(commandId: string, aggregateClass: Constructor<T>, aggregateId: string): Promise<CommandOutcome> {
    if (typeof commandId !== 'string' || commandId.length === 0) throw new InvalidOptionError('outcome needs the command id to look up');
    const model = this.modelOf(aggregateClass);
    const reply = await this.request(`outcome of ${commandId}`, randomUUID(), aggregateId, {
      value: null,
      headers: { [HEADER.request]: 'outcome', [HEADER.aggregateType]: model.type, [HEADER.queriedCommandId]: commandId },
    });
    const about = { commandId, aggregateType: model.type, aggregateId };
    const decision = reply.decision;
    if (!decision) return { status: 'unknown', ...about };
    if ('error' in decision) return { status: 'failed', ...about, error: this.reviver.revive(decision.error) };
    return { status: 'succeeded', ...about, version: decision.version, eventCount: decision.events };
  }

  /**
   * The aggregate's current state, read from its owner's local store (never by
   * scanning the events topic). Sees every command whose `execute` has resolved.
   *
   * @throws {@link AggregateNotFoundError} if it does not exist.
   */
  async load<T extends AggregateRoot>(aggregateClass: Constructor<T>, aggregateId: string): Promise<T> {
    const model = this.modelOf(aggregateClass);
    const reply = await this.request(`load ${model.type}`, randomUUID(), aggregateId, {
      value: null,
      headers: { [HEADER.request]: 'load', [HEADER.aggregateType]: model.type },
    });
    return model.fromSnapshot(reply.snapshot!.state, reply.snapshot!.version);
  }

  /**
   * Erases an aggregate (for example on a GDPR request): its owner writes a
   * tombstone for each of its event keys and for its snapshot, so compaction
   * removes them; nothing of other aggregates is touched.
   */
  async eraseAggregate<T extends AggregateRoot>(aggregateClass: Constructor<T>, aggregateId: string): Promise<void> {
    const model = this.modelOf(aggregateClass);
    await this.request(`erase ${model.type}`, randomUUID(), aggregateId, {
      value: null,
      headers: { [HEADER.request]: 'erase', [HEADER.aggregateType]: model.type },
    });
  }

  private modelOf<T extends AggregateRoot>(aggregateClass: Constructor<T>) {
    const model = this.domain.modelOfClass(aggregateClass);
    if (!model) throw new InvalidOptionError(`${aggregateClass.name} is not registered with this KafkaCommandBus; add it to \`aggregates\``);
    return model;
  }

  /**
   * Sends one request to the owner of `aggregateId`'s partition and waits for its
   * committed reply. @internal Used by {@link KafkaEventStore}.
   */
  async request(
    what: string,
    commandId: string,
    aggregateId: string,
    message: { value: string | null; headers: Record<string, string> },
    timeoutMs: number = this.options.commandTimeoutMs,
  ): Promise<Extract<CommandReply, { status: 'ok' }>> {
    if (!this.producer) throw new InvalidOptionError('KafkaCommandBus is not started; call start() first');
    let timer: NodeJS.Timeout | undefined;
    let waiter: ReplyWaiter | undefined;
    const replied = new Promise<CommandReply>((resolve, reject) => {
      waiter = resolve;
      const waiters = this.waiting.get(commandId) ?? new Set<ReplyWaiter>();
      waiters.add(resolve);
      this.waiting.set(commandId, waiters);
      timer = setTimeout(() => reject(new CommandTimeoutError(commandId, what, timeoutMs)), timeoutMs);
    });
    try {
      await this.sender!.enqueue({
        key: aggregateId,
        partition: partitionForKey(aggregateId, this.options.partitions),
        value: message.value,
        headers: { ...message.headers, [HEADER.commandId]: commandId, [HEADER.replyTo]: this.clientId },
      }).catch((error) => {
        throw toTributaryError(error, { operation: `sending ${what}`, topic: this.layout.commands });
      });
      const reply = await replied;
      if (reply.status === 'error') throw this.reviver.revive(reply.error);
      return reply;
    } finally {
      clearTimeout(timer);
      const waiters = this.waiting.get(commandId);
      waiters?.delete(waiter!);
      if (waiters?.size === 0) this.waiting.delete(commandId);
    }
  }
}
