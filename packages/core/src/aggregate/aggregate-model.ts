import { InvalidHandlerResultError, MissingAggregateIdValueError, MissingTargetIdValueError } from '../errors/aggregate.errors';
import { AnyClass, Constructor } from '../metadata/metadata-storage';
import type { AggregateRoot } from './aggregate-root';
import { markCommitted, replayEvent, restoreVersion, runHandler } from './aggregate-root';
import { EventData } from '../events/event-envelope';
import { fromPlainData, toPlainData } from '../events/plain-data';

/** How one command class is handled by one aggregate. */
export interface CommandHandlerBinding {
  readonly command: AnyClass;
  readonly method: string;
  /** Static handlers create the aggregate; instance handlers act on a loaded one. */
  readonly creates: boolean;
  /** Property of the command naming the target aggregate; absent for creation commands without one. */
  readonly targetIdProperty?: string;
}

/**
 * One stored event to replay: its sequence, and the event it reads as today, or
 * after upcasting, the events (several after a split, none after a drop).
 */
export type ReplayedEvent =
  | { readonly sequence: number; readonly payload: object }
  | { readonly sequence: number; readonly payloads: readonly object[] };

/**
 * The runtime model of one aggregate class, built and validated from its
 * decorators by the explorer. Use it to run handlers outside a command bus, as
 * the test fixtures do; in an application the {@link CommandBus} uses it for you.
 */
export class AggregateModel<T extends AggregateRoot = AggregateRoot> {
  /** @internal Built by the explorer only, after validation. */
  constructor(
    readonly target: Constructor<T>,
    readonly type: string,
    readonly idProperty: string,
    private readonly appliers: ReadonlyMap<AnyClass, string>,
    readonly commandHandlers: ReadonlyMap<AnyClass, CommandHandlerBinding>,
  ) {}

  /** The event classes this aggregate can apply. */
  get eventClasses(): AnyClass[] {
    return [...this.appliers.keys()];
  }

  applierFor(eventClass: AnyClass): string | undefined {
    return this.appliers.get(eventClass);
  }

  /** The aggregate's identity, read from its `@AggregateId` property. */
  idOf(aggregate: T): string | undefined {
    const value = (aggregate as unknown as Record<string, unknown>)[this.idProperty];
    return value === undefined || value === null || value === '' ? undefined : String(value);
  }

  /** The id of the aggregate a command targets, from its `@TargetAggregateId` property. */
  targetIdOf(command: object, binding: CommandHandlerBinding): string | undefined {
    if (!binding.targetIdProperty) return undefined;
    const value = (command as Record<string, unknown>)[binding.targetIdProperty];
    if (value === undefined || value === null || value === '') {
      if (binding.creates) return undefined;
      throw new MissingTargetIdValueError(command.constructor.name, binding.targetIdProperty, this.type);
    }
    return String(value);
  }

  /**
   * Runs a static creation handler and returns the new, unsaved aggregate.
   *
   * @throws {@link InvalidHandlerResultError} when the command names its target
   *   (`@TargetAggregateId`) and the handler created another id: the command was
   *   routed, checked and deduplicated by the target id, so its events must land
   *   there. Every runtime, embedded, Kafka and test fixture, refuses it alike.
   */
  async create(command: object, binding: CommandHandlerBinding): Promise<T> {
    const handlerName = `${this.target.name}.${binding.method}`;
    const handler = (this.target as unknown as Record<string, (command: object) => unknown>)[binding.method];
    const created = await runHandler(handlerName, () => handler.call(this.target, command));
    if (!(created instanceof this.target)) {
      throw new InvalidHandlerResultError(
        handlerName,
        `must return the new ${this.target.name} it created, but returned ${describe(created)}`,
      );
    }
    const createdId = this.idOf(created);
    if (createdId === undefined) throw new MissingAggregateIdValueError(handlerName, this.idProperty);
    const targetId = this.targetIdOf(command, binding);
    if (targetId !== undefined && createdId !== targetId) {
      throw new InvalidHandlerResultError(handlerName, `created ${this.type} '${createdId}' for a command addressed to '${targetId}'; they must match`);
    }
    return created;
  }

  /** Runs an instance handler against a loaded aggregate; the events it applies stay uncommitted. */
  async handle(aggregate: T, command: object, binding: CommandHandlerBinding): Promise<void> {
    const handlerName = `${this.target.name}.${binding.method}`;
    const handler = (aggregate as unknown as Record<string, (command: object) => unknown>)[binding.method];
    const result = await runHandler(handlerName, () => handler.call(aggregate, command));
    // A decider-style `return event` would otherwise be dropped without a word.
    if (result !== undefined && (Array.isArray(result) || typeof result === 'object')) {
      throw new InvalidHandlerResultError(
        handlerName,
        `returned ${describe(result)}; command handlers record events with this.apply(event) and return nothing`,
      );
    }
  }

  /**
   * Builds an aggregate from its history by replaying each event through its
   * `@Apply` method. Returns `undefined` for an empty history.
   *
   * Sequences must run 1, 2, 3 … over the stored events. A stored event that
   * upcasting split or dropped carries its `payloads`, applied in order; the
   * aggregate's version is the sequence of the last stored event either way.
   *
   * @throws {@link EventSequenceError} on a gap or a repeat.
   */
  rehydrate(aggregateId: string, history: Iterable<ReplayedEvent>): T | undefined {
    let aggregate: T | undefined;
    for (const event of history) {
      aggregate ??= new this.target();
      replayEvent(aggregate, 'payloads' in event ? event.payloads : [event.payload], event.sequence, aggregateId);
    }
    if (aggregate) markCommitted(aggregate);
    return aggregate;
  }

  /**
   * Applies one more stored event to an aggregate (a new one when `aggregate` is
   * `undefined`): {@link AggregateModel.rehydrate} one event at a time, for
   * readers that stream a log, such as a bulk replay, and cannot hold each
   * aggregate's history. The same strict checks hold: the event's sequence must
   * be the aggregate's version + 1 (so a new aggregate starts at 1).
   *
   * @returns the aggregate, the one passed in or the new one.
   * @throws {@link EventSequenceError} on a gap or a repeat.
   */
  replay(aggregate: T | undefined, aggregateId: string, event: ReplayedEvent): T {
    const target = aggregate ?? new this.target();
    replayEvent(target, 'payloads' in event ? event.payloads : [event.payload], event.sequence, aggregateId);
    return target;
  }

  /**
   * The aggregate's state as JSON-safe data, through class-transformer, for a
   * snapshot. Mark dates and nested classes in its fields with `@Type(() => …)`.
   */
  toSnapshot(aggregate: T): EventData {
    return toPlainData(aggregate);
  }

  /** An aggregate rebuilt from {@link AggregateModel.toSnapshot} data, at the version the snapshot was taken. */
  fromSnapshot(state: EventData, version: number): T {
    const aggregate = fromPlainData(this.target, state);
    restoreVersion(aggregate, version);
    return aggregate;
  }
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === 'object') return `an instance of ${value.constructor?.name ?? 'Object'}`;
  return `a ${typeof value}`;
}
