import { exploreAggregate } from '../aggregate/aggregate-explorer';
import { AggregateModel } from '../aggregate/aggregate-model';
import { AggregateRoot, markCommitted, replayEvent } from '../aggregate/aggregate-root';
import { InvalidOptionError } from '../errors/configuration.errors';
import { EventRegistry } from '../events/event-registry';
import { AnyClass, Constructor } from '../metadata/metadata-storage';
import { EventStore } from '../store/event-store';
import { EventPipeline } from '../upcasting/event-pipeline';
import { Upcaster } from '../upcasting/upcaster';
import { shapeVersionOf } from './shape-version';
import { Snapshot } from './snapshot';
import { SnapshotPolicy } from './snapshot-policy';
import { SnapshotStore } from './snapshot-store';

/** Something the rehydrator worked around, told to {@link RehydratorOptions.onWarning}. */
export interface RehydratorWarning {
  readonly kind: 'snapshot-shape-changed' | 'snapshot-unreadable' | 'snapshot-load-failed' | 'snapshot-save-failed';
  readonly aggregateType: string;
  readonly aggregateId: string;
  readonly message: string;
  readonly error?: unknown;
}

/** Options of {@link Rehydrator}. */
export interface RehydratorOptions<T extends AggregateRoot> {
  /** The `@Aggregate` class to load. */
  readonly aggregate: Constructor<T>;
  /** Where its events are. */
  readonly eventStore: EventStore;
  /** Where its snapshots are; without one, every load replays every event. */
  readonly snapshots?: SnapshotStore;
  /** When to take a snapshot after a load. Without one, snapshots are taken only by {@link Rehydrator.takeSnapshot}. */
  readonly policy?: SnapshotPolicy<NoInfer<T>>;
  /** The upcasters stored events go through (the one pipeline: decode → resolve → upcast → apply). */
  readonly upcasters?: Iterable<Upcaster>;
  /** Event classes of past versions, kept to read history. */
  readonly events?: Iterable<AnyClass>;
  /** A pipeline to share (a command bus's); when given, `upcasters` and `events` are its business. */
  readonly pipeline?: EventPipeline;
  /** Defaults to a `console.warn` line; each kind of snapshot fallback is told once per aggregate type. */
  readonly onWarning?: (warning: RehydratorWarning) => void;
}

/** Which state {@link Rehydrator.load} returns. */
export interface LoadOptions {
  /** The state at this version: the events up to it (or fewer, if the aggregate never got that far). */
  readonly version?: number;
  /** The state as of this time: the events that occurred at or before it. */
  readonly asOf?: Date;
  /**
   * The state as of this event store position: the events at or before it. For
   * Kafka, `KafkaEventStore.positionAt(stream, time)` turns a time into one
   * with `offsetsForTimes`. Needs a store that reports positions.
   */
  readonly asOfPosition?: number;
  /** Read the snapshot store. Defaults to true; false replays every event. */
  readonly useSnapshots?: boolean;
}

/**
 * Turns an aggregate's events back into state: the newest usable snapshot, then
 * the events after it, each through the one read pipeline. Also answers
 * temporal queries (state as of a version or a time) from the nearest snapshot
 * at or before that point.
 *
 * A snapshot is a cache and never trusted over the events: one of another state
 * shape (see `@Aggregate(type, { shapeVersion })`), or one that cannot be read,
 * is ignored with a warning and the aggregate is loaded from its events (and the
 * snapshot replaced, when a policy is set). Snapshots are written off the
 * caller's path; a failed write is a warning, never an error.
 *
 * @example
 * ```ts
 * const orders = new Rehydrator({ aggregate: Order, eventStore, snapshots, policy: SnapshotPolicies.everyEvents(100) });
 * const order = await orders.load('order-1');
 * const lastWeek = await orders.load('order-1', { asOf: new Date('2026-11-20') });
 * ```
 */
export class Rehydrator<T extends AggregateRoot> {
  readonly model: AggregateModel<T>;
  /** The state-shape version snapshots are written with and must match. */
  readonly shapeVersion: string;
  readonly pipeline: EventPipeline;
  private readonly eventStore: EventStore;
  private readonly snapshots?: SnapshotStore;
  private readonly policy?: SnapshotPolicy<T>;
  private readonly warn: (warning: RehydratorWarning) => void;
  private readonly warned = new Set<string>();
  private readonly pendingWrites = new Set<Promise<void>>();

  constructor(options: RehydratorOptions<T>) {
    if (!options || typeof options.aggregate !== 'function') throw new InvalidOptionError('Rehydrator needs options: { aggregate: <@Aggregate class>, eventStore }');
    if (!options.eventStore) throw new InvalidOptionError(`Rehydrator of ${options.aggregate.name} needs an eventStore`);
    this.model = exploreAggregate(options.aggregate);
    this.shapeVersion = shapeVersionOf(this.model);
    if (options.pipeline) {
      this.pipeline = options.pipeline;
    } else {
      const registry = new EventRegistry(this.model.eventClasses);
      for (const eventClass of options.events ?? []) registry.register(eventClass, 'Rehydrator options.events');
      this.pipeline = new EventPipeline({ registry, upcasters: options.upcasters });
    }
    this.eventStore = options.eventStore;
    this.snapshots = options.snapshots;
    this.policy = options.policy;
    this.warn = options.onWarning ?? ((warning) => console.warn(`[tributary] ${warning.message}`));
  }

  /**
   * The aggregate's state, now or at the point the options name.
   * @returns undefined if it has no events (up to that point).
   */
  async load(aggregateId: string, options: LoadOptions = {}): Promise<T | undefined> {
    if (options.version !== undefined && !(Number.isInteger(options.version) && options.version >= 0)) {
      throw new InvalidOptionError(`Rehydrator.load option version must be a whole number of 0 or more, got ${options.version}`);
    }
    if (options.asOf !== undefined && !(options.asOf instanceof Date && !Number.isNaN(options.asOf.getTime()))) {
      throw new InvalidOptionError('Rehydrator.load option asOf must be a valid Date');
    }
    if (options.asOfPosition !== undefined && !(Number.isInteger(options.asOfPosition) && options.asOfPosition >= 0)) {
      throw new InvalidOptionError(`Rehydrator.load option asOfPosition must be a whole number of 0 or more, got ${options.asOfPosition}`);
    }
    const started = performance.now();
    const snapshot = options.useSnapshots === false ? undefined : await this.usableSnapshot(aggregateId, options);
    let aggregate = snapshot?.aggregate;
    const from = (snapshot?.version ?? 0) + 1;
    if (options.version !== undefined && from > options.version) return aggregate;

    const afterPosition = snapshot?.position === undefined ? undefined : Number(snapshot.position);
    const tail = await this.eventStore.readStream(
      { aggregateType: this.model.type, aggregateId },
      { fromSequence: from, toSequence: options.version, ...(Number.isSafeInteger(afterPosition) ? { afterPosition } : {}) },
    );
    let applied = 0;
    let lastOccurredAt = snapshot?.occurredAt;
    let lastPosition = snapshot?.position;
    for (const event of tail) {
      if (options.asOf !== undefined && event.occurredAt.getTime() > options.asOf.getTime()) break;
      if (options.asOfPosition !== undefined) {
        const position = (event as { position?: number }).position;
        if (position === undefined) throw new InvalidOptionError(`Rehydrator.load option asOfPosition needs an event store that reports positions; ${this.eventStore.constructor.name} does not`);
        if (position > options.asOfPosition) break;
      }
      const where = `Loading ${this.model.type} '${aggregateId}' (event ${event.sequence})`;
      const payloads = this.pipeline.instantiate({ type: event.type, schemaVersion: event.schemaVersion, payload: event.payload }, where);
      aggregate ??= new this.model.target();
      replayEvent(aggregate, payloads, event.sequence, aggregateId);
      lastOccurredAt = event.occurredAt;
      const position = (event as { position?: number }).position;
      lastPosition = position === undefined ? undefined : String(position);
      applied += 1;
    }
    if (!aggregate) return undefined;
    markCommitted(aggregate);

    // Only loads of the present feed the policy: a temporal query's state is not the newest.
    const present = options.version === undefined && options.asOf === undefined && options.asOfPosition === undefined;
    if (present && this.snapshots && this.policy && lastOccurredAt) {
      const loadMs = performance.now() - started;
      const replace = snapshot?.replace === true;
      if (replace || this.policy.shouldSnapshot({ aggregate, version: aggregate.version, eventsSinceSnapshot: snapshot ? applied : aggregate.version, loadMs })) {
        this.writeInBackground(aggregate, aggregateId, lastOccurredAt, lastPosition);
      }
    }
    return aggregate;
  }

  /**
   * Saves a snapshot of an aggregate as it is now (its uncommitted events
   * excluded: call it after saving them).
   */
  async takeSnapshot(aggregate: T, occurredAt: Date = new Date(), position?: string): Promise<void> {
    if (!this.snapshots) throw new InvalidOptionError(`Rehydrator of ${this.model.type} has no snapshot store to write to`);
    const aggregateId = this.model.idOf(aggregate);
    if (aggregateId === undefined) throw new InvalidOptionError(`Cannot snapshot a ${this.model.type} without an id`);
    await this.snapshots.save({
      aggregateType: this.model.type,
      aggregateId,
      version: aggregate.version - aggregate.getUncommittedEvents().length,
      state: this.model.toSnapshot(aggregate),
      shapeVersion: this.shapeVersion,
      occurredAt,
      ...(position === undefined ? {} : { position }),
    });
  }

  /** Resolves when the snapshot writes started by loads so far have finished (or failed and been reported). */
  async flush(): Promise<void> {
    while (this.pendingWrites.size > 0) await Promise.all([...this.pendingWrites]);
  }

  private writeInBackground(aggregate: T, aggregateId: string, occurredAt: Date, position: string | undefined): void {
    const write = this.takeSnapshot(aggregate, occurredAt, position)
      .catch((error: unknown) =>
        this.warnOnce('snapshot-save-failed', aggregateId, `Could not save a snapshot of ${this.model.type} '${aggregateId}': ${messageOf(error)}; loads replay events until one is saved`, error),
      )
      .finally(() => this.pendingWrites.delete(write));
    this.pendingWrites.add(write);
  }

  /** The snapshot to start from, as an aggregate; undefined (with a warning) when there is none it can trust. */
  private async usableSnapshot(aggregateId: string, options: LoadOptions): Promise<{ aggregate: T; version: number; occurredAt: Date; position?: string; replace?: false } | { aggregate: undefined; version: 0; occurredAt: undefined; position?: undefined; replace: true } | undefined> {
    if (!this.snapshots) return undefined;
    let snapshot: Snapshot | undefined;
    try {
      snapshot = await this.snapshots.load(this.model.type, aggregateId, { maxVersion: options.version, asOf: options.asOf });
    } catch (error) {
      this.warnOnce('snapshot-load-failed', aggregateId, `Could not read snapshots of ${this.model.type} '${aggregateId}': ${messageOf(error)}; loading from events`, error);
      return undefined;
    }
    if (!snapshot) return undefined;
    // A snapshot past the position asked for, or of unknown position, cannot start that query: replay instead.
    if (options.asOfPosition !== undefined && !(snapshot.position !== undefined && Number(snapshot.position) <= options.asOfPosition)) return undefined;
    if (snapshot.shapeVersion !== this.shapeVersion) {
      this.warnOnce(
        'snapshot-shape-changed',
        aggregateId,
        `A snapshot of ${this.model.type} has state shape ${snapshot.shapeVersion}, not ${this.shapeVersion}: ignored, loaded from events, and replaced when the policy takes one`,
      );
      return { aggregate: undefined, version: 0, occurredAt: undefined, replace: true };
    }
    try {
      if (!Number.isInteger(snapshot.version) || snapshot.version < 1) throw new Error(`its version is ${String(snapshot.version)}`);
      if (!snapshot.state || typeof snapshot.state !== 'object') throw new Error('its state is not an object');
      const aggregate = this.model.fromSnapshot(snapshot.state, snapshot.version);
      if (this.model.idOf(aggregate) !== aggregateId) throw new Error(`its state holds id ${String(this.model.idOf(aggregate))}`);
      return { aggregate, version: snapshot.version, occurredAt: snapshot.occurredAt, position: snapshot.position };
    } catch (error) {
      this.warnOnce('snapshot-unreadable', aggregateId, `A snapshot of ${this.model.type} '${aggregateId}' cannot be read (${messageOf(error)}): ignored, loaded from events`, error);
      return { aggregate: undefined, version: 0, occurredAt: undefined, replace: true };
    }
  }

  private warnOnce(kind: RehydratorWarning['kind'], aggregateId: string, message: string, error?: unknown): void {
    if (this.warned.has(kind)) return;
    this.warned.add(kind);
    this.warn({ kind, aggregateType: this.model.type, aggregateId, message, ...(error === undefined ? {} : { error }) });
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
