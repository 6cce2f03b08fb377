import {
  AggregateRoot,
  AnyClass,
  Constructor,
  DeadLetterEntry,
  DomainModel,
  EventPipeline,
  InvalidOptionError,
  PartitionOffset,
  ReadModelSlot,
  ReadModelStore,
  RetryPolicy,
  TributaryError,
  Upcaster,
  retryPolicy,
} from '@tributary/core';
import { GROUP_TIMING_DEFAULTS, Instrumentation, KafkaConnectionOptions, connectAdmin, fetchTopicOffsets, resolveConnectionOptions, stopOnSignals } from '@tributary/kafka';
import { Admin, Batch, Consumer, EachBatchPayload, Kafka, KafkaMessage, Producer, logLevel } from 'kafkajs';
import { DeadLetterTopic, OutgoingDeadLetter, deadLetterTopicName } from './dead-letter-topic';
import { DeadLetters } from './dead-letters';
import { NoProjectedEventsError, ProjectionStoppedError, RetriesSpentError } from './errors/projection.errors';
import { ProjectionMetrics } from './projection-metrics';
import { ProjectionModel, ProjectionSource } from './projection-model';
import { DecodedRecord, RecordDecoder } from './record-decoder';
import { RunHalt } from './run-halt';

/** Options of a {@link ProjectionRunner}. */
export interface ProjectionRunnerOptions<W> extends KafkaConnectionOptions {
  /** An `@Projection` class (or instance), or a `defineProjection(…)` definition. */
  readonly projection: ProjectionSource<W>;
  /** Where the read model, its offsets and its dead letters live. */
  readonly store: ReadModelStore<W>;
  /** Upcasters for what schema resolution cannot do. */
  readonly upcasters?: Iterable<Upcaster>;
  /** Past versions of events still in the topics, so upcasters can read them. */
  readonly events?: readonly AnyClass[];
  /** Most events handled in one transaction. Defaults to 500. */
  readonly batchSize?: number;
  /** Partitions handled at the same time (kafkajs `partitionsConsumedConcurrently`). Defaults to 1. */
  readonly concurrency?: number;
  /** Retries of a handler that throws a retriable error, before its event becomes a dead letter. Defaults to 5 retries from 100 ms to 5 s. */
  readonly retry?: Partial<RetryPolicy>;
  /**
   * Longest wait between retries of a transaction the store could not commit
   * (it is retried until it commits, or the runner stops or fails, which ends
   * the wait at once). Defaults to 5 000 ms.
   */
  readonly maxStoreBackoffMs?: number;
  /** Where to count; runners of one process may share one. */
  readonly metrics?: ProjectionMetrics;
  /**
   * How long the group waits for a silent worker (killed, frozen) before
   * moving its partitions (kafkajs `sessionTimeout`). Defaults to 10 000 ms,
   * as the command processors' (`GROUP_TIMING_DEFAULTS` of `@tributary/kafka`).
   */
  readonly sessionTimeoutMs?: number;
  /** How often the worker tells its group it lives, and so how soon it joins a rebalance (kafkajs `heartbeatInterval`). Defaults to 1 000 ms. */
  readonly heartbeatIntervalMs?: number;
  /**
   * Stop gracefully on SIGTERM and SIGINT, so the worker leaves its group at
   * once rather than after `sessionTimeoutMs`; once every runner of the
   * process that stops on signals has stopped, the signal takes its course
   * (the process ends) unless the application listens to it too. The
   * handlers are added by `start()` and removed when the runner stops or
   * fails. Defaults to true; give false where the application (or
   * `tributary projection run`) handles the signals itself.
   */
  readonly stopOnSignals?: boolean;
  /** @internal the version written: a rebuild runs a runner on the shadow. */
  readonly version?: ReadModelSlot['version'];
}

/** Payloads of a runner's instrumentation events. */
export interface ProjectionRunnerEvents {
  /** A transaction committed. */
  'projection.committed': { topic: string; partition: number; events: number; deadLetters: number; nextOffset: string; durationMs: number };
  /** Events became dead letters (written to the dead-letter topic; committed with the batch). */
  'projection.dead-lettered': { topic: string; partition: number; offsets: string[]; aggregates: string[] };
  /** A commit found another stored offset (a zombie's write refused, or a swap): the partition re-seeks to it. */
  'projection.conflict': { topic: string; partition: number; expected: string | null; stored: string | null };
  /** A transaction is retried after a transient error. */
  'projection.retry': { topic: string; partition: number; attempt: number; error: unknown };
  /** The runner stopped on an error it cannot get past. */
  'projection.failed': { error: unknown };
}

const RUNNER_EVENT_NAMES: readonly (keyof ProjectionRunnerEvents)[] = ['projection.committed', 'projection.dead-lettered', 'projection.conflict', 'projection.retry', 'projection.failed'];

/** What a runner is doing, for health checks. */
export type ProjectionRunnerState = 'idle' | 'starting' | 'running' | 'stopping' | 'stopped' | 'failed';

/** Where a runner stands in one partition it was assigned. */
interface PartitionPosition {
  /** The stored offset, as last read or committed; null when the store holds none. */
  expected: string | null;
}

/** A handler failed on one record of a transaction: the transaction is rolled back and re-run. */
class HandlerFailure extends Error {
  constructor(
    readonly index: number,
    readonly error: unknown,
  ) {
    super('handler failed');
  }
}

/**
 * Keeps one projection's read model up to date from the events topics: a
 * kafkajs consumer in the group `<prefix>.projection.<name>`, `read_committed`,
 * in order per partition (so per aggregate).
 *
 * Each transaction of the store holds the handlers' writes for up to
 * `batchSize` events and moves the stored offset by compare-and-set, so every
 * event takes effect exactly once: after a crash the runner resumes from the
 * store's offsets, not the group's, and a worker that lost its partitions in a
 * rebalance (a zombie) writes nothing.
 *
 * Failures: an error with `retriable: true` (or that the store calls
 * transient) is retried with backoff; an event whose handler throws anything
 * else, or that cannot be decoded or upcast, goes to the dead-letter topic
 * `<prefix>.projection.<name>.dlq`, and the later events of its aggregate follow
 * it there (parked) until `tributary dlq redrive` or `skip`. Other aggregates
 * flow on.
 *
 * A runner stops gracefully on SIGTERM and SIGINT (see `stopOnSignals`).
 *
 * @example
 * ```ts
 * const runner = new ProjectionRunner({ app: 'shop', brokers, aggregates: [Order], projection: OrderSummary, store });
 * await runner.start(); // until SIGTERM, or runner.stop()
 * ```
 */
export class ProjectionRunner<W = unknown> {
  readonly model: ProjectionModel<W>;
  readonly slot: ReadModelSlot;
  /** The events topics read. */
  readonly topics: string[];
  readonly groupId: string;
  readonly deadLetterTopic: DeadLetterTopic;
  private readonly kafka: Kafka;
  private readonly decoder: RecordDecoder;
  private readonly pipeline: EventPipeline;
  private readonly store: ReadModelStore<W>;
  private readonly batchSize: number;
  private readonly concurrency: number;
  private readonly retry: RetryPolicy;
  private readonly maxStoreBackoffMs: number;
  private readonly startupTimeoutMs: number;
  private readonly metrics?: ProjectionMetrics;
  private readonly instrumentation = new Instrumentation<ProjectionRunnerEvents>(RUNNER_EVENT_NAMES);
  private readonly positions = new Map<string, PartitionPosition>();
  private storedOffsets?: Promise<Map<string, string>>;
  private consumer?: Consumer;
  private producer?: Producer;
  private admin?: Admin;
  private runState: ProjectionRunnerState = 'idle';
  private failure?: unknown;
  private lastCommitAt?: Date;
  private readonly assigned = new Set<string>();
  private readonly waiters = new Set<() => void>();
  private readonly topicEvents: { topic: string; eventClasses: AnyClass[] }[];
  /** Serialises the work of one partition: a batch, and the step over trailing markers kafkajs never hands to eachBatch. */
  private readonly partitionLocks = new Map<string, Promise<unknown>>();
  private depthTimer?: NodeJS.Timeout;
  /** Partitions whose batch in flight kafkajs announced but has not handed to eachBatch: only markers or aborted records. */
  private readonly notHandedOver = new Set<string>();
  /** How the current run ends; each start() begins a new one. */
  private halt = new RunHalt();
  /** The release of the current run's connections, shared by a failure and stop(), so stop() waits until the worker has left. */
  private releasing?: Promise<void>;
  private stopOnSignalsDisposer?: () => void;

  constructor(private readonly options: ProjectionRunnerOptions<W>) {
    const resolved = resolveConnectionOptions(options, 'ProjectionRunner');
    if (!options.store || typeof options.store.commit !== 'function') throw new InvalidOptionError('ProjectionRunner option store must be a ReadModelStore (e.g. new PostgresReadModelStore(…))');
    this.model = ProjectionModel.of(options.projection);
    this.store = options.store;
    this.slot = { projection: this.model.name, version: options.version ?? 'live' };
    const domain = new DomainModel(resolved.aggregates as Constructor<AggregateRoot>[], options.events ?? []);
    const layout = resolved.layout;
    const handled = new Set(this.model.eventClasses);
    const models = domain.models.filter((model) => model.eventClasses.some((eventClass) => handled.has(eventClass)));
    if (models.length === 0 && !this.model.hasErasureHandler) {
      throw new NoProjectedEventsError(this.model.name, this.model.eventClasses.map((eventClass) => eventClass.name), domain.models.map((model) => model.type));
    }
    const read = models.length > 0 ? models : domain.models;
    this.topics = read.map((model) => layout.events(model.type));
    this.topicEvents = read.map((model) => ({ topic: layout.events(model.type), eventClasses: model.eventClasses }));
    this.pipeline = new EventPipeline({ registry: domain.eventRegistry, upcasters: options.upcasters, serializer: resolved.serializer });
    this.decoder = new RecordDecoder(this.pipeline, new Map(read.map((model) => [layout.events(model.type), model.type])));
    const prefix = resolved.prefix;
    this.groupId = `${prefix}.projection.${this.model.name}${this.slot.version === 'shadow' ? '.rebuild' : ''}`;
    this.kafka = new Kafka({ logLevel: logLevel.NOTHING, ...resolved.kafkaConfig, brokers: [...resolved.brokers] });
    this.deadLetterTopic = new DeadLetterTopic(deadLetterTopicName(prefix, this.model.name), this.kafka);
    this.batchSize = whole(options.batchSize ?? 500, 'batchSize');
    this.concurrency = whole(options.concurrency ?? 1, 'concurrency');
    this.retry = retryPolicy({ retries: 5, initialDelayMs: 100, maxDelayMs: 5_000, multiplier: 2, ...options.retry });
    this.maxStoreBackoffMs = options.maxStoreBackoffMs ?? 5_000;
    this.startupTimeoutMs = resolved.startupTimeoutMs;
    this.metrics = options.metrics;
  }

  /** The projection's name. */
  get name(): string {
    return this.model.name;
  }

  /** What the runner is doing now. */
  get state(): ProjectionRunnerState {
    return this.runState;
  }

  /** For health checks: state, assigned partitions, the last commit and the error it stopped on. */
  status(): { projection: string; state: ProjectionRunnerState; partitions: string[]; lastCommitAt?: string; error?: string } {
    return {
      projection: this.model.name,
      state: this.runState,
      partitions: [...this.assigned].map((key) => key.replace('\u0000', ':')).sort(),
      lastCommitAt: this.lastCommitAt?.toISOString(),
      error: this.failure === undefined ? undefined : this.failure instanceof Error ? this.failure.message : String(this.failure),
    };
  }

  /**
   * Listens to an instrumentation event; returns the function that stops listening.
   * @throws {@link InvalidOptionError} for a name that is not a runner event.
   */
  on<E extends keyof ProjectionRunnerEvents>(event: E, listener: (payload: ProjectionRunnerEvents[E]) => void): () => void {
    return this.instrumentation.on(event, listener);
  }

  /** Prepares the store and the dead-letter topic, joins the consumer group and starts handling events. */
  async start(): Promise<void> {
    if (this.runState !== 'idle' && this.runState !== 'stopped') throw new InvalidOptionError(`ProjectionRunner '${this.name}' is already ${this.runState}`);
    this.runState = 'starting';
    this.failure = undefined;
    this.halt = new RunHalt();
    this.releasing = undefined;
    try {
      this.admin = await connectAdmin(this.options.brokers, this.options.kafkaConfig ?? {}, this.startupTimeoutMs);
      await this.serializerReady();
      await this.store.prepare();
      await this.deadLetterTopic.ensure(this.admin);
      this.producer = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
      await this.producer.connect();
      const consumer = this.kafka.consumer({
        groupId: this.groupId,
        readUncommitted: false,
        allowAutoTopicCreation: false,
        sessionTimeout: this.options.sessionTimeoutMs ?? GROUP_TIMING_DEFAULTS.sessionTimeoutMs,
        heartbeatInterval: this.options.heartbeatIntervalMs ?? GROUP_TIMING_DEFAULTS.heartbeatIntervalMs,
        maxWaitTimeInMs: 100,
      });
      this.consumer = consumer;
      // Another worker may have moved any partition while this one was not its owner: read the store again after every join.
      consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
        this.positions.clear();
        this.storedOffsets = undefined;
        this.assigned.clear();
        for (const [topic, partitions] of Object.entries(payload.memberAssignment)) for (const partition of partitions) this.assigned.add(`${topic}\u0000${partition}`);
      });
      // A fetch of only transaction markers (or aborted records) never reaches eachBatch; step the stored offset over it,
      // so lag reads 0 and a rebuild's shadow can match the live offsets. Only when the fetch began where the store stands.
      // kafkajs announces every fetched batch; those it then hands to eachBatch are taken off this set. A batch eachBatch
      // saw and left (a seek after a conflict, a stale batch, a stop) must never be stepped over: its records were not handled.
      consumer.on(consumer.events.START_BATCH_PROCESS, ({ payload }) => this.notHandedOver.add(`${payload.topic}\u0000${payload.partition}`));
      consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
        const key = `${payload.topic}\u0000${payload.partition}`;
        if (!this.notHandedOver.delete(key)) return;
        const position = this.positions.get(key);
        if (!position || position.expected === null || payload.firstOffset === null) return;
        const next = BigInt(payload.lastOffset) + 1n;
        if (BigInt(payload.firstOffset) <= BigInt(position.expected) && BigInt(position.expected) < next) {
          void this.exclusive(key, async () => {
            if (position.expected !== null && BigInt(position.expected) < next && this.runState === 'running') {
              await this.commitChunk(payload.topic, payload.partition, position, [], next.toString());
            }
          }).catch((error) => this.fail(error));
        }
      });
      consumer.on(consumer.events.CRASH, ({ payload }) => {
        if (!payload.restart) void this.fail(payload.error);
      });
      await consumer.connect();
      await consumer.subscribe({ topics: this.topics, fromBeginning: true });
      await consumer.run({
        autoCommit: true,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: this.concurrency,
        eachBatch: (payload) => {
          const key = `${payload.batch.topic}\u0000${payload.batch.partition}`;
          this.notHandedOver.delete(key);
          return this.exclusive(key, () => this.eachBatch(payload));
        },
      });
      // A failure or a stop that came while the consumer joined wins.
      if (this.state === 'failed') throw this.failure;
      if (this.state !== 'starting') return;
      this.runState = 'running';
      if (this.options.stopOnSignals ?? true) this.stopOnSignalsDisposer = stopOnSignals(() => this.stop());
      if (this.metrics) {
        const refresh = () =>
          this.store.deadLetters(this.slot).then(
            (letters) => this.metrics?.deadLetters.set({ projection: this.name }, letters.length),
            () => undefined,
          );
        void refresh();
        this.depthTimer = setInterval(refresh, 10_000).unref();
      }
    } catch (error) {
      this.halt.abandon();
      await this.release();
      // A failure reported while starting (the consumer crashed) stays the one reported.
      if (this.state !== 'failed') {
        this.runState = 'failed';
        this.failure = error;
      }
      throw error;
    }
  }

  /**
   * Stops gracefully: the transaction in hand commits (or, if it cannot, is
   * abandoned whole; it is not retried), then the consumer leaves the group so
   * its partitions move at once. After a failure, stops what is left: nothing
   * commits after `projection.failed` (but a transaction whose COMMIT was
   * already on the way), so the transaction in hand is not waited for, and
   * the runner stays `failed` with its error. Safe to call more than once;
   * resolves once the worker has left its group.
   */
  async stop(): Promise<void> {
    if (this.runState === 'stopped' || this.runState === 'idle') return;
    if (this.runState !== 'failed') this.runState = 'stopping';
    this.halt.halt();
    this.wake();
    await this.release();
    if (this.runState === 'stopping') this.runState = 'stopped';
  }

  /** The offsets this runner committed or read from the store, per assigned partition. */
  committedOffsets(): PartitionOffset[] {
    return [...this.positions.entries()]
      .filter(([, position]) => position.expected !== null)
      .map(([key, position]) => {
        const [topic, partition] = key.split('\u0000');
        return { topic, partition: Number(partition), nextOffset: position.expected! };
      });
  }

  /** The error the runner stopped on, if it failed. */
  get error(): unknown {
    return this.failure;
  }

  /** The projection's dead letters: list, redrive, skip. Needs no started runner. */
  deadLetters(): DeadLetters<W> {
    return new DeadLetters<W>({
      name: this.name,
      slot: { projection: this.name, version: 'live' },
      store: this.store,
      topic: this.deadLetterTopic,
      brokers: this.options.brokers,
      kafkaConfig: this.options.kafkaConfig ?? {},
      startupTimeoutMs: this.startupTimeoutMs,
      groupPrefix: this.groupId,
      decode: (topic, partition, message) => this.decoder.decode(topic, partition, message),
      apply: (record, writer) => this.apply(record, writer),
    });
  }

  /** Resolves after the next commit of this runner (or when it stops). */
  nextCommit(timeoutMs = 1_000): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiters.delete(done);
        resolve();
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      this.waiters.add(done);
    });
  }

  private async serializerReady(): Promise<void> {
    await this.pipeline.serializer.prepare?.({ topics: this.topicEvents });
  }

  private async eachBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    if (this.runState !== 'running' && this.runState !== 'starting') return;
    const key = `${batch.topic}\u0000${batch.partition}`;
    try {
      const position = await this.positionOf(batch.topic, batch.partition, key);
      const start = position.expected === null ? await this.logStart(batch.topic, batch.partition) : BigInt(position.expected);
      // The store, not the group, says where to resume: a fetch that began after it (the group's offset ran ahead) is sent back.
      const fetched = BigInt((batch as Batch & { fetchedOffset: string }).fetchedOffset);
      if (fetched > start) {
        this.consumer?.seek({ topic: batch.topic, partition: batch.partition, offset: start.toString() });
        return;
      }
      const messages = batch.messages.filter((message) => BigInt(message.offset) >= start);
      const batchEnd = (BigInt(batch.lastOffset()) + 1n).toString();
      for (let from = 0; from < messages.length || from === 0; from += this.batchSize) {
        if (this.runState !== 'running' && this.runState !== 'starting') return;
        if (!payload.isRunning() || payload.isStale()) return;
        const chunk = messages.slice(from, from + this.batchSize);
        const last = from + this.batchSize >= messages.length;
        // The last transaction of a fetch also steps over its trailing transaction markers.
        const next = last ? batchEnd : (BigInt(chunk[chunk.length - 1].offset) + 1n).toString();
        if (chunk.length === 0 && (position.expected === null ? start : BigInt(position.expected)) >= BigInt(next)) break;
        const committed = await this.commitChunk(batch.topic, batch.partition, position, chunk, next);
        if (!committed) return;
        payload.resolveOffset((BigInt(next) - 1n).toString());
        this.metrics?.lag.set({ projection: this.name, topic: batch.topic, partition: String(batch.partition) }, Math.max(0, Number(BigInt(batch.highWatermark) - BigInt(next))));
        await payload.heartbeat();
        if (last) break;
      }
      await payload.commitOffsetsIfNecessary();
    } catch (error) {
      // kafkajs's own errors (a rebalance in progress, a member the group forgot) must reach kafkajs, which rejoins
      // the group; so must transient store errors, for kafkajs to retry the batch. Nothing was committed past them.
      if (isKafkaJsError(error) || this.isTransient(error)) throw error;
      await this.fail(error);
    }
  }

  private async positionOf(topic: string, partition: number, key: string): Promise<PartitionPosition> {
    let position = this.positions.get(key);
    if (!position) {
      this.storedOffsets ??= this.store.readOffsets(this.slot).then((offsets) => new Map(offsets.map((offset) => [`${offset.topic}\u0000${offset.partition}`, offset.nextOffset])));
      const stored = await this.storedOffsets;
      position = this.positions.get(key) ?? { expected: stored.get(key) ?? null };
      this.positions.set(key, position);
    }
    return position;
  }

  private async logStart(topic: string, partition: number): Promise<bigint> {
    const offsets = await fetchTopicOffsets(this.admin!, topic);
    return BigInt(offsets.find((entry) => entry.partition === partition)?.low ?? '0');
  }

  /**
   * Handles and commits one transaction's records. Resolves false when the
   * compare-and-set failed (the partition was re-seeked) or the runner is stopping.
   */
  private async commitChunk(topic: string, partition: number, position: PartitionPosition, messages: readonly KafkaMessage[], next: string): Promise<boolean> {
    const halt = this.halt;
    const records = await Promise.all(messages.map((message) => this.decoder.decode(topic, partition, message)));
    const poisoned = new Map<number, unknown>();
    let handlerAttempt = 0;
    let storeAttempt = 0;
    for (;;) {
      // Stopping or failed: no transaction starts again (a retry would go on for as long as the store is down).
      if (halt.halted) return false;
      const startedAt = Date.now();
      let handled = 0;
      let letters: OutgoingDeadLetter[] = [];
      try {
        const outcome = await this.store.commit({ slot: this.slot, topic, partition, expected: position.expected }, async (context) => {
          handled = 0;
          letters = [];
          const firstFailure = new Map<string, string>();
          for (const [index, record] of records.entries()) {
            const deadLetter = (reason: 'failed' | 'parked', error?: unknown) => {
              const entry: DeadLetterEntry = { topic, partition, offset: record.message.offset, aggregate: record.aggregate };
              if (reason === 'failed' && !firstFailure.has(record.aggregate)) firstFailure.set(record.aggregate, record.message.offset);
              letters.push({ projection: this.name, topic, partition, message: record.message, aggregate: record.aggregate, reason, error, parkedBehind: reason === 'parked' ? firstFailure.get(record.aggregate) : undefined });
              context.deadLetter(entry);
            };
            if (context.parked.has(record.aggregate)) deadLetter('parked');
            else if (record.kind === 'unreadable') deadLetter('failed', record.error);
            else if (poisoned.has(index)) deadLetter('failed', poisoned.get(index));
            else {
              try {
                handled += await this.apply(record, context.writer);
              } catch (error) {
                throw new HandlerFailure(index, error);
              }
            }
          }
          // A runner that failed meanwhile has reported its end: nothing of it may commit after that.
          halt.throwIfAbandoned();
          // Durable in the dead-letter topic before the offset moves past them; a crash in between writes them twice, which readers fold.
          if (letters.length > 0) await this.deadLetterTopic.send(this.producer!, letters);
          halt.throwIfAbandoned();
          return next;
        });
        if (!outcome.committed) {
          this.metrics?.conflicts.inc({ projection: this.name });
          this.instrumentation.emit('projection.conflict', () => ({ topic, partition, expected: position.expected, stored: outcome.stored }));
          position.expected = outcome.stored;
          const to = outcome.stored ?? (await this.logStart(topic, partition)).toString();
          this.consumer?.seek({ topic, partition, offset: to });
          return false;
        }
        position.expected = outcome.nextOffset;
        this.lastCommitAt = new Date();
        const durationMs = Date.now() - startedAt;
        this.metrics?.events.inc({ projection: this.name }, handled);
        this.metrics?.batchSeconds.observe({ projection: this.name }, durationMs / 1000);
        if (letters.length > 0) {
          this.metrics?.deadLettered.inc({ projection: this.name }, letters.length);
          this.metrics?.deadLetters.inc({ projection: this.name }, letters.length);
          const sent = letters;
          this.instrumentation.emit('projection.dead-lettered', () => ({ topic, partition, offsets: sent.map((letter) => letter.message.offset), aggregates: [...new Set(sent.map((letter) => letter.aggregate))] }));
        }
        this.instrumentation.emit('projection.committed', () => ({ topic, partition, events: handled, deadLetters: letters.length, nextOffset: outcome.nextOffset, durationMs }));
        this.wake();
        return true;
      } catch (error) {
        // Whatever failed, the transaction rolled back; a halted run does not try again.
        if (halt.halted) return false;
        if (error instanceof HandlerFailure) {
          if (this.isTransient(error.error) && handlerAttempt < this.retry.retries) {
            handlerAttempt += 1;
            await this.backoff(halt, topic, partition, handlerAttempt, error.error, this.retry.maxDelayMs);
            continue;
          }
          // Not transient, or retried enough: the event becomes a dead letter and the transaction runs again without it.
          poisoned.set(error.index, handlerAttempt > 0 ? new RetriesSpentError(handlerAttempt, error.error) : error.error);
          handlerAttempt = 0;
          continue;
        }
        if (this.isTransient(error)) {
          storeAttempt += 1;
          await this.backoff(halt, topic, partition, storeAttempt, error, this.maxStoreBackoffMs);
          continue;
        }
        throw error;
      }
    }
  }

  private async apply(record: DecodedRecord, writer: W): Promise<number> {
    if (record.kind === 'erasure') {
      await this.model.erase(record.erased, writer);
      return 0;
    }
    if (record.kind !== 'events') return 0;
    let handled = 0;
    for (const { event, envelope } of record.events) {
      if (!this.model.handles(event)) continue;
      await this.model.handle(event, envelope, writer);
      handled += 1;
    }
    return handled;
  }

  private isTransient(error: unknown): boolean {
    if (error instanceof TributaryError) return error.retriable;
    if ((error as { retriable?: unknown })?.retriable === true) return true;
    return this.store.isTransient?.(error) ?? false;
  }

  /** Waits before a retry; a stop or a failure ends the wait at once. */
  private async backoff(halt: RunHalt, topic: string, partition: number, attempt: number, error: unknown, maxDelayMs: number): Promise<void> {
    this.metrics?.retries.inc({ projection: this.name });
    this.instrumentation.emit('projection.retry', () => ({ topic, partition, attempt, error }));
    const ceiling = Math.min(maxDelayMs, this.retry.initialDelayMs * this.retry.multiplier ** (attempt - 1));
    await halt.pause(Math.random() * ceiling);
  }

  private async fail(error: unknown): Promise<void> {
    if (this.runState === 'failed' || this.runState === 'stopped') return;
    this.runState = 'failed';
    this.failure = new ProjectionStoppedError(this.name, error);
    // Before anyone hears of the failure: from here on, nothing in hand may commit, and nobody waits for it.
    this.halt.abandon();
    this.instrumentation.emit('projection.failed', () => ({ error: this.failure }));
    this.wake();
    // Not awaited from inside eachBatch: kafkajs's disconnect waits for the batch in hand to return.
    setImmediate(() => void this.release());
  }

  private wake(): void {
    for (const waiter of [...this.waiters]) {
      this.waiters.delete(waiter);
      waiter();
    }
  }

  /**
   * Runs `action` after the work of the partition before it. Once the run is
   * abandoned (failed), resolves at once, not waiting for work in hand that a
   * store that is down may hold for long: the consumer can then leave its group.
   */
  private exclusive<T>(key: string, action: () => Promise<T>): Promise<T | undefined> {
    const halt = this.halt;
    const run = (this.partitionLocks.get(key) ?? Promise.resolve()).then(() => halt.unlessAbandoned(action));
    this.partitionLocks.set(key, run.catch(() => undefined));
    return run;
  }

  /** Disconnects once per run, however many ask (a failure, then stop()), so every caller waits for the same. */
  private release(): Promise<void> {
    this.releasing ??= this.disconnect();
    return this.releasing;
  }

  private async disconnect(): Promise<void> {
    this.stopOnSignalsDisposer?.();
    this.stopOnSignalsDisposer = undefined;
    clearInterval(this.depthTimer);
    const consumer = this.consumer;
    const producer = this.producer;
    const admin = this.admin;
    this.consumer = undefined;
    this.producer = undefined;
    this.admin = undefined;
    await consumer?.disconnect().catch(() => undefined);
    await producer?.disconnect().catch(() => undefined);
    await admin?.disconnect().catch(() => undefined);
    // Work kafkajs does not wait for (the step over trailing markers) ends too, or is abandoned.
    await Promise.all(this.partitionLocks.values());
    this.assigned.clear();
  }
}

function isKafkaJsError(error: unknown): boolean {
  const name = (error as { name?: unknown })?.name;
  return typeof name === 'string' && name.startsWith('KafkaJS');
}

function whole(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1) throw new InvalidOptionError(`ProjectionRunner option ${name} must be a whole number of at least 1, got ${value}`);
  return value;
}
