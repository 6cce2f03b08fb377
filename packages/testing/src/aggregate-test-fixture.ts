import {
  AggregateModel,
  AggregateRepository,
  AggregateRoot,
  AnyClass,
  CommandBus,
  Constructor,
  DomainError,
  EventData,
  EventEnvelope,
  ExecuteOptions,
  EventRecord,
  InMemoryEventStore,
  InvalidOptionError,
  MissingCommandHandlerError,
  UndeclaredEventError,
  Upcaster,
  exploreAggregate,
  getMetadataStorage,
  isEventRecord,
} from '@tributary/core';
import { randomUUID } from 'node:crypto';
import { CommandOutcome, ResultValidator } from './result-validator';

/** Options of {@link AggregateTestFixture}. */
export interface AggregateTestFixtureOptions {
  /** Event classes to know besides those the aggregate applies. */
  readonly events?: readonly AnyClass[];
  /**
   * Upcasters the fixture's bus reads stored events through, as the
   * application's does, so that a past of legacy events can be given.
   */
  readonly upcasters?: Iterable<Upcaster>;
}

/** What one command of a {@link AggregateTestFixture.whenAll} run did. */
export type ScenarioStep = { readonly command: object } & CommandOutcome;

/** The result of running a sequence of commands with {@link AggregateTestFixture.whenAll}. */
export interface ScenarioResult<T extends AggregateRoot> {
  /** The aggregate that handled the commands, kept in memory from the first to the last. */
  readonly live: T | undefined;
  /** The same aggregate rebuilt from the store's events alone. */
  readonly rebuilt: T | undefined;
  /** Every stored event of the aggregate, in sequence order. */
  readonly history: readonly EventEnvelope<EventData>[];
  /** Each command with the events it stored or the domain error it threw. */
  readonly steps: readonly ScenarioStep[];
}

/**
 * Given/when/then tests for one aggregate class, on the same command bus and
 * in-memory event store an application runs on: commands are dispatched, events
 * go through the registry's conversion and are stored and reloaded for real.
 *
 * @example
 * ```ts
 * const fixture = new AggregateTestFixture(Order);
 * await fixture
 *   .given(new OrderCreated('o-1', 'c-7'), new ItemAdded('o-1', 'apple', 2))
 *   .when(new SubmitOrder('o-1'))
 *   .expectEvents(new OrderSubmitted('o-1'));
 * ```
 */
export class AggregateTestFixture<T extends AggregateRoot> {
  private readonly model: AggregateModel<T>;
  private readonly options: AggregateTestFixtureOptions;
  private readonly upcasters: readonly Upcaster[];
  private past: object[] = [];

  constructor(aggregateClass: Constructor<T>, options: AggregateTestFixtureOptions = {}) {
    // Fails here, at the start of the test, on any binding mistake of the class or its upcasters.
    this.model = exploreAggregate(aggregateClass);
    this.options = options;
    // Kept as an array: every scenario builds a bus of its own, and an iterable may be read only once.
    this.upcasters = [...(options.upcasters ?? [])];
    this.createBus();
  }

  /**
   * Sets the aggregate's past: the events it has already stored, oldest first.
   * Each is an instance of an `@Event` class (a legacy version too: it is stored
   * as written and read back through the upcasters) or an {@link EventRecord}
   * `{ type, schemaVersion, payload }` as some older code stored it.
   *
   * @example
   * ```ts
   * const fixture = new AggregateTestFixture(Order, { upcasters: [renameCustomer] });
   * await fixture
   *   .given(new OrderCreatedV1('o-1', 'c-7'), { type: 'ItemAdded', schemaVersion: 1, payload: { sku: 'apple' } })
   *   .when(new SubmitOrder('o-1'))
   *   .expectEvents(new OrderSubmitted('o-1'));
   * ```
   */
  given(...events: object[]): this {
    this.past = events;
    return this;
  }

  /** Sets an empty past: the aggregate does not exist yet. */
  givenNothing(): this {
    return this.given();
  }

  /** Sends one command against the given past, and returns its outcome to check. */
  when(command: object, options?: ExecuteOptions): ResultValidator<T> {
    const bus = this.createBus();
    const seeded = this.seed(bus);
    let aggregateId: string | undefined;
    const outcome = seeded.then(async (givenId): Promise<CommandOutcome> => {
      aggregateId = givenId;
      try {
        const result = await bus.execute(command, options);
        aggregateId = result.aggregateId;
        return { events: result.events.map((event) => event.payload) };
      } catch (error) {
        // A misconfigured test should fail as itself, not as "expected events".
        if (error instanceof MissingCommandHandlerError) throw error;
        return { error };
      }
    });
    const repository = bus.repository(this.model.target);
    return new ResultValidator(
      outcome,
      async () => (aggregateId === undefined ? undefined : repository.find(aggregateId)),
      bus.eventRegistry,
    );
  }

  /**
   * Runs commands one after another against a single live aggregate, storing what
   * each one applies, and then rebuilds the aggregate from the store. Commands
   * that throw a {@link DomainError} are recorded and change nothing; other errors
   * are thrown. Made for property-based tests: `live` and `rebuilt` must always
   * be equal, and `history` numbered 1, 2, 3 … without gaps.
   */
  async whenAll(commands: readonly object[]): Promise<ScenarioResult<T>> {
    const bus = this.createBus();
    let aggregateId = await this.seed(bus);
    const repository = bus.repository(this.model.target);
    let live = aggregateId === undefined ? undefined : await repository.load(aggregateId);
    const steps: ScenarioStep[] = [];
    for (const command of commands) {
      const binding = this.model.commandHandlers.get(command.constructor);
      if (!binding) throw new MissingCommandHandlerError(command.constructor.name);
      try {
        if (binding.creates) {
          if (live) throw new ScenarioAlreadyCreatedError(this.model.type, command.constructor.name);
          live = await this.model.create(command, binding);
        } else {
          if (!live) throw new ScenarioNotCreatedError(this.model.type, command.constructor.name);
          await this.model.handle(live, command, binding);
        }
        const events = await repository.save(live, { correlationId: randomUUID(), causationId: randomUUID(), metadata: {} });
        aggregateId = this.model.idOf(live);
        steps.push({ command, events: events.map((event) => event.payload) });
      } catch (error) {
        if (!(error instanceof DomainError)) throw error;
        steps.push({ command, error });
        // A handler that applied before throwing leaves state the store never saw.
        if (live && live.getUncommittedEvents().length > 0) {
          live = aggregateId === undefined ? undefined : await repository.find(aggregateId);
        }
      }
    }
    const rebuilt = aggregateId === undefined ? undefined : await repository.find(aggregateId);
    const history =
      aggregateId === undefined ? [] : await bus.eventStore.readStream({ aggregateType: this.model.type, aggregateId });
    return { live, rebuilt, history, steps };
  }

  private createBus(): CommandBus {
    return new CommandBus({
      aggregates: [this.model.target],
      eventStore: new InMemoryEventStore(),
      events: this.options.events,
      upcasters: this.upcasters,
      // A conflict in a single-threaded test is a bug to see, not to retry.
      retry: { retries: 0 },
    });
  }

  /** Stores the given past and returns the id of the aggregate it belongs to. */
  private async seed(bus: CommandBus): Promise<string | undefined> {
    if (this.past.length === 0) return undefined;
    const records = this.past.map((event, index) => givenRecord(event, index, bus));
    // The same reading the repository does, to learn which aggregate the past belongs to.
    const replayed = this.model.rehydrate(
      'given',
      records.map((record, index) => ({ sequence: index + 1, payloads: bus.eventPipeline.instantiate(record, `Given event ${index + 1}`) })),
    )!;
    const aggregateId = this.model.idOf(replayed);
    if (aggregateId === undefined) {
      throw new InvalidOptionError(
        `The given events leave ${this.model.target.name}.${this.model.idProperty} empty; start them with the creation event`,
      );
    }
    await bus.eventStore.appendToStream(
      { aggregateType: this.model.type, aggregateId },
      0,
      records.map((record) => ({
        eventId: randomUUID(),
        type: record.type,
        schemaVersion: record.schemaVersion,
        occurredAt: new Date(),
        correlationId: 'given',
        causationId: 'given',
        metadata: {},
        payload: record.payload,
      })),
    );
    return aggregateId;
  }
}

/** A given event as stored data: an `@Event` instance through its class's type and version, or a record as it is. */
function givenRecord(event: object, index: number, bus: CommandBus): EventRecord {
  // Legacy classes need not be registered with the bus: the metadata storage knows every @Event.
  const declared = event === null || typeof event !== 'object' ? undefined : getMetadataStorage().findEvent(event.constructor);
  if (declared) return { type: declared.type, schemaVersion: declared.version, payload: bus.eventRegistry.toData(event) };
  if (isEventRecord(event) && Object.getPrototypeOf(event) === Object.prototype) {
    return { type: event.type, schemaVersion: event.schemaVersion, payload: JSON.parse(JSON.stringify(event.payload)) };
  }
  const name = event === null || typeof event !== 'object' ? String(event) : event.constructor?.name ?? 'Object';
  if (name === 'Object') {
    throw new InvalidOptionError(
      `Given event ${index + 1} is a plain object but not an event record; give an instance of an @Event class, ` +
        `or { type, schemaVersion, payload } with schemaVersion a whole number from 1`,
    );
  }
  throw new UndeclaredEventError(name, `AggregateTestFixture.given (event ${index + 1})`);
}

/** A scenario sent a creation command to an aggregate it had already created. */
export class ScenarioAlreadyCreatedError extends DomainError {
  constructor(aggregateType: string, commandName: string) {
    super(`${commandName} creates a ${aggregateType}, but this scenario already has one`, 'SCENARIO_ALREADY_CREATED');
  }
}

/** A scenario sent a command to an aggregate it had not created yet. */
export class ScenarioNotCreatedError extends DomainError {
  constructor(aggregateType: string, commandName: string) {
    super(`${commandName} needs an existing ${aggregateType}; start the scenario with a creation command`, 'SCENARIO_NOT_CREATED');
  }
}
