import { randomUUID } from 'node:crypto';
import { AggregateAlreadyExistsError } from '../errors/aggregate.errors';
import { InvalidOptionError, MissingCommandHandlerError } from '../errors/configuration.errors';
import { WrongExpectedVersionError } from '../errors/concurrency.errors';
import { EventEnvelope } from '../events/event-envelope';
import { EventRegistry } from '../events/event-registry';
import { AggregateModel, CommandHandlerBinding } from '../aggregate/aggregate-model';
import { DomainModel } from '../aggregate/domain-model';
import { AggregateRoot } from '../aggregate/aggregate-root';
import { AnyClass, Constructor } from '../metadata/metadata-storage';
import { EventStore } from '../store/event-store';
import { InMemoryEventStore } from '../store/in-memory-event-store';
import { AggregateRepository, MessageContext } from './aggregate-repository';
import { RetryPolicy, retryPolicy, withRetry } from './retry-policy';

/** Options of {@link CommandBus}. */
export interface CommandBusOptions {
  /** The aggregate classes whose `@CommandHandler`s this bus dispatches to. */
  readonly aggregates: readonly Constructor<AggregateRoot>[];
  /** Where events are stored. Defaults to a new {@link InMemoryEventStore}. */
  readonly eventStore?: EventStore;
  /** Retries on a concurrency conflict. Defaults to {@link DEFAULT_RETRY_POLICY}. */
  readonly retry?: Partial<RetryPolicy>;
  /** Event classes to know besides those the aggregates apply, e.g. older versions kept for reading. */
  readonly events?: readonly AnyClass[];
}

/** Options of one {@link CommandBus.execute} call. */
export interface ExecuteOptions {
  /** Id of this command; becomes the causation id of its events. Defaults to a new UUID. */
  readonly commandId?: string;
  /** Id shared by everything one request causes. Defaults to the command id. */
  readonly correlationId?: string;
  /** String metadata copied onto every event. */
  readonly metadata?: Readonly<Record<string, string>>;
}

/** What a command did. */
export interface CommandResult {
  readonly aggregateType: string;
  readonly aggregateId: string;
  /** The aggregate's version after the command: the sequence of its latest event. */
  readonly version: number;
  /** The events the command stored, in order; empty if it decided nothing changes. */
  readonly events: readonly EventEnvelope<object>[];
}

/**
 * Sends commands to their aggregates: finds the handler, loads the aggregate,
 * runs the handler, and appends the new events expecting the version it loaded.
 * If another writer got there first, it loads again and retries, by the policy.
 *
 * Building a bus validates every registered aggregate, so binding mistakes fail
 * at start-up, not on the first command that meets them.
 *
 * @example
 * ```ts
 * const bus = new CommandBus({ aggregates: [Order] });
 * const { events } = await bus.execute(new CreateOrder('o-1', 'c-7'));
 * const order = await bus.repository(Order).load('o-1');
 * ```
 */
export class CommandBus {
  readonly eventStore: EventStore;
  readonly domain: DomainModel;
  private readonly retryPolicy: RetryPolicy;
  private readonly repositories = new Map<AnyClass, AggregateRepository<AggregateRoot>>();

  constructor(options: CommandBusOptions) {
    if (!options || !Array.isArray(options.aggregates) || options.aggregates.length === 0) {
      throw new InvalidOptionError('CommandBus needs `aggregates`: a non-empty array of @Aggregate classes');
    }
    this.domain = new DomainModel(options.aggregates, options.events);
    this.eventStore = options.eventStore ?? new InMemoryEventStore();
    this.retryPolicy = retryPolicy(options.retry);
  }

  /** Every event class the registered aggregates know, with its persisted type and version. */
  get eventRegistry(): EventRegistry {
    return this.domain.eventRegistry;
  }

  /**
   * Runs a command to completion.
   *
   * @returns the stored events and the aggregate's new version. When this
   *   resolves, the events are durably in the event store.
   * @throws the handler's {@link DomainError} as it was thrown;
   *   {@link MissingCommandHandlerError} for a command no aggregate handles;
   *   {@link AggregateNotFoundError} / {@link AggregateAlreadyExistsError};
   *   {@link RetriesExhaustedError} wrapping the last {@link WrongExpectedVersionError}
   *   when conflicts outlast the retry policy.
   */
  async execute(command: object, options: ExecuteOptions = {}): Promise<CommandResult> {
    const route = this.domain.route(command);
    if (!route) throw new MissingCommandHandlerError(describeCommand(command));
    const commandId = options.commandId ?? randomUUID();
    const context: MessageContext = {
      correlationId: options.correlationId ?? commandId,
      causationId: commandId,
      metadata: { ...options.metadata },
    };
    const repository = this.repository(route.model.target);
    return withRetry(`Command ${command.constructor.name}`, this.retryPolicy, async () => {
      const { model, binding } = route;
      if (binding.creates) return this.create(model, binding, repository, command, context);
      const aggregateId = model.targetIdOf(command, binding)!;
      const aggregate = await repository.load(aggregateId);
      await model.handle(aggregate, command, binding);
      const events = await repository.save(aggregate, context);
      return { aggregateType: model.type, aggregateId, version: aggregate.version, events };
    });
  }

  /** The repository of one registered aggregate class, for loading its aggregates. */
  repository<T extends AggregateRoot>(aggregateClass: Constructor<T>): AggregateRepository<T> {
    let repository = this.repositories.get(aggregateClass);
    if (!repository) {
      const model = this.domain.modelOfClass(aggregateClass);
      if (!model) {
        throw new InvalidOptionError(`${aggregateClass.name} is not registered with this CommandBus; add it to \`aggregates\``);
      }
      repository = new AggregateRepository(model, this.eventStore, this.domain.eventRegistry);
      this.repositories.set(aggregateClass, repository);
    }
    return repository as unknown as AggregateRepository<T>;
  }

  private async create(
    model: AggregateModel,
    binding: CommandHandlerBinding,
    repository: AggregateRepository<AggregateRoot>,
    command: object,
    context: MessageContext,
  ): Promise<CommandResult> {
    const targetId = model.targetIdOf(command, binding);
    if (targetId !== undefined && (await repository.find(targetId))) {
      throw new AggregateAlreadyExistsError(model.type, targetId);
    }
    const aggregate = await model.create(command, binding);
    const aggregateId = model.idOf(aggregate)!;
    try {
      const events = await repository.save(aggregate, context);
      return { aggregateType: model.type, aggregateId, version: aggregate.version, events };
    } catch (error) {
      // Expecting version 0 and finding more means someone created it first.
      if (error instanceof WrongExpectedVersionError) throw new AggregateAlreadyExistsError(model.type, aggregateId);
      throw error;
    }
  }
}

function describeCommand(command: unknown): string {
  if (command === null || typeof command !== 'object') return `${String(command)} (commands are class instances)`;
  const name = command.constructor?.name;
  return !name || name === 'Object' ? 'a plain object (commands are instances of a class)' : name;
}
