import { AsyncLocalStorage } from 'node:async_hooks';
import { MissingApplierError, UndeclaredEventError } from '../errors/configuration.errors';
import { EventSequenceError } from '../errors/aggregate.errors';
import { getMetadataStorage } from '../metadata/metadata-storage';
import { exploreAggregate } from './aggregate-explorer';

interface AggregateState {
  version: number;
  uncommitted: object[];
}

// The handler being run, named in errors raised while it applies events. Async-local
// because a static handler applies to an aggregate it has only just created, and
// handlers of different commands may interleave.
const currentHandler = new AsyncLocalStorage<string>();

// A symbol keeps the bookkeeping out of the way of user fields, of class-transformer
// and of deep-equality checks on the aggregate's state.
const STATE = Symbol('tributary.aggregate-state');

function stateOf(aggregate: AggregateRoot): AggregateState {
  const holder = aggregate as unknown as { [STATE]?: AggregateState };
  if (!holder[STATE]) {
    Object.defineProperty(aggregate, STATE, { value: { version: 0, uncommitted: [] }, enumerable: false });
  }
  return holder[STATE]!;
}

/**
 * Base class of every aggregate. Command handlers decide and call
 * {@link AggregateRoot.apply}; `@Apply` methods evolve the state.
 *
 * @example
 * ```ts
 * @Aggregate('Order')
 * export class Order extends AggregateRoot {
 *   @AggregateId() id = '';
 *   submitted = false;
 *
 *   @CommandHandler(SubmitOrder)
 *   submit(): void {
 *     if (this.submitted) throw new OrderAlreadySubmittedError(this.id);
 *     this.apply(new OrderSubmitted(this.id));
 *   }
 *
 *   @Apply(OrderSubmitted)
 *   onSubmitted(): void {
 *     this.submitted = true;
 *   }
 * }
 * ```
 */
export abstract class AggregateRoot {
  /** Number of events this aggregate has applied, stored or not: the sequence of the latest one. */
  get version(): number {
    return stateOf(this).version;
  }

  /** Events applied since the aggregate was loaded or last saved, oldest first. */
  getUncommittedEvents(): readonly object[] {
    return stateOf(this).uncommitted;
  }

  /**
   * Records a new fact: runs the `@Apply` method for the event's class, keeps the
   * event for saving, and advances {@link AggregateRoot.version}.
   *
   * @throws {@link UndeclaredEventError} if the event's class has no `@Event`.
   * @throws {@link MissingApplierError} if this aggregate has no `@Apply` for it.
   */
  protected apply(event: object): void {
    const state = stateOf(this);
    invokeApplier(this, event, currentHandler.getStore() ?? `${this.constructor.name}.apply`);
    state.uncommitted.push(event);
    state.version += 1;
  }
}

function invokeApplier(aggregate: AggregateRoot, event: object, usedBy: string): void {
  const model = exploreAggregate(aggregate.constructor as new () => AggregateRoot);
  const eventClass = event?.constructor;
  if (!eventClass || !getMetadataStorage().findEvent(eventClass)) {
    throw new UndeclaredEventError(eventClass?.name ?? String(event), usedBy);
  }
  const method = model.applierFor(eventClass);
  if (!method) throw new MissingApplierError(model.target.name, eventClass.name);
  (aggregate as unknown as Record<string, (event: object) => void>)[method](event);
}

/**
 * Replays one stored event: applies what it reads as today, without recording
 * it. Upcasting may turn one stored event into several or none; the version
 * still counts stored events, since that is what appends are checked against. @internal
 */
export function replayEvent(aggregate: AggregateRoot, events: readonly object[], sequence: number, aggregateId: string): void {
  const state = stateOf(aggregate);
  if (sequence !== state.version + 1) {
    const model = exploreAggregate(aggregate.constructor as new () => AggregateRoot);
    throw new EventSequenceError(model.type, aggregateId, state.version + 1, sequence);
  }
  for (const event of events) invokeApplier(aggregate, event, `Loading ${aggregate.constructor.name}`);
  state.version = sequence;
}

/** Runs a command handler with its name attached to any error raised by `apply`. @internal */
export function runHandler<R>(handlerName: string, run: () => R): R {
  return currentHandler.run(handlerName, run);
}

/** Marks the uncommitted events as stored. @internal */
export function markCommitted(aggregate: AggregateRoot): void {
  stateOf(aggregate).uncommitted = [];
}

/** Version of the aggregate as last stored or loaded. @internal */
export function persistedVersion(aggregate: AggregateRoot): number {
  const state = stateOf(aggregate);
  return state.version - state.uncommitted.length;
}

/** Sets the version of an aggregate restored from a snapshot. @internal */
export function restoreVersion(aggregate: AggregateRoot, version: number): void {
  const state = stateOf(aggregate);
  state.version = version;
  state.uncommitted = [];
}
