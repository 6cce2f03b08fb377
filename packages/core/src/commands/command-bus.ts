import { randomUUID } from 'node:crypto';
import { AggregateAlreadyExistsError } from '../errors/aggregate.errors';
import { InvalidOptionError, MissingCommandHandlerError } from '../errors/configuration.errors';
import { StaleEventClassError, UnappliedEventError } from '../errors/upcasting.errors';
import { WrongExpectedVersionError } from '../errors/concurrency.errors';
import { EventEnvelope } from '../events/event-envelope';
import { EventRegistry } from '../events/event-registry';
import { AggregateModel, CommandHandlerBinding } from '../aggregate/aggregate-model';
import { DomainModel } from '../aggregate/domain-model';
import { AggregateRoot } from '../aggregate/aggregate-root';
import { AnyClass, Constructor, getMetadataStorage } from '../metadata/metadata-storage';
import { EventStore } from '../store/event-store';
import { InMemoryEventStore } from '../store/in-memory-event-store';
import { EventPipeline } from '../upcasting/event-pipeline';
import { Upcaster } from '../upcasting/upcaster';
import { Rehydrator, RehydratorWarning } from '../snapshots/rehydrator';
import { SnapshotPolicy } from '../snapshots/snapshot-policy';
import { SnapshotStore } from '../snapshots/snapshot-store';
import { AggregateRepository, MessageContext } from './aggregate-repository';
import { RetryPolicy, retryPolicy, withRetry } from './retry-policy';
import { CommandOutcome, commandFingerprint, decidedCommandsLimit } from './command-outcome';
import { toPlainData } from '../events/plain-data';
import { DecidedCommands } from './decided-commands';

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
  /**
   * Upcasters that take stored events of older types and versions to the
   * current classes when aggregates are loaded. Checked when the bus is built.
   */
  readonly upcasters?: Iterable<Upcaster>;
  /** Where snapshots are kept; with one, loads start from the newest snapshot. */
  readonly snapshots?: SnapshotStore;
  /**
   * When to take a snapshot after a load, for every aggregate or per aggregate
   * class. Snapshots are written off the command path: a failed write is a
   * warning, never a failed command.
   */
  readonly snapshotPolicy?: SnapshotPolicy | ((aggregateClass: Constructor<AggregateRoot>) => SnapshotPolicy | undefined);
  /** Told when a snapshot is ignored or cannot be written. Defaults to a `console.warn` line. */
  readonly onWarning?: (warning: RehydratorWarning) => void;
  /**
   * How many decided command ids each aggregate keeps with their outcomes, so
   * that a command sent again with the same `commandId` is answered instead of
   * decided again. Defaults to {@link DEFAULT_DECIDED_COMMANDS_PER_AGGREGATE};
   * 0 turns deduplication off. They are kept in this bus's memory: a new bus (a
   * restart) starts with none, and two buses over one store do not share them.
   */
  readonly decidedCommandsPerAggregate?: number;
}

/** Options of one {@link CommandBus.execute} call. */
export interface ExecuteOptions {
  /**
   * Id of this command; becomes the causation id of its events. Defaults to a
   * new UUID. Give one to make the command safe to send again: a command whose
   * id was already decided on its aggregate is answered with that decision
   * (see {@link CommandResult.deduplicated}) and decides nothing.
   */
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
  /** The events the command stored, in order; empty if it decided nothing changes, or if it was {@link CommandResult.deduplicated}. */
  readonly events: readonly EventEnvelope<object>[];
  /**
   * True when a command with this id had been decided already: nothing was
   * decided now, `version` is the version the first decision reached, and
   * `events` is empty (read them from the store if you need them).
   */
  readonly deduplicated?: boolean;
}

/**
 * Sends commands to their aggregates: finds the handler, loads the aggregate,
 * runs the handler, and appends the new events expecting the version it loaded.
 * If another writer got there first, it loads again and retries, by the policy.
 *
 * Commands are idempotent by their `commandId`: each aggregate keeps the ids of
 * its last decided commands with their outcomes (in this bus's memory, as the
 * embedded store keeps its events), and a command whose id it has decided is
 * answered with that outcome, deciding nothing (see
 * {@link CommandBusOptions.decidedCommandsPerAggregate}). A creation command
 * without a `@TargetAggregateId` names its aggregate only once it has run, so it
 * is kept under the created id but cannot be deduplicated: sent again, it runs
 * again. Give creation commands a target id to make them safe to retry.
 *
 * Building a bus validates every registered aggregate and upcaster, so binding
 * mistakes and gaps in the upcasters fail at start-up, not on the first command
 * that meets them. Stored events are read back through its {@link EventPipeline}.
 *
 * @throws at construction, besides the aggregates' start-up errors,
 *   {@link DuplicateUpcasterError}, {@link MisplacedUpcasterError},
 *   {@link StaleEventClassError} (an applier for an older version) and
 *   {@link UnappliedEventError} (a class stored events end at that nothing applies).
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
  /** How stored events are read back: upcast to the current classes, then made instances. */
  readonly eventPipeline: EventPipeline;
  private readonly retryPolicy: RetryPolicy;
  private readonly repositories = new Map<AnyClass, AggregateRepository<AggregateRoot>>();
  private readonly decided: DecidedCommands;

  constructor(private readonly options: CommandBusOptions) {
    if (!options || !Array.isArray(options.aggregates) || options.aggregates.length === 0) {
      throw new InvalidOptionError('CommandBus needs `aggregates`: a non-empty array of @Aggregate classes');
    }
    this.domain = new DomainModel(options.aggregates, options.events);
    this.eventPipeline = new EventPipeline({ registry: this.domain.eventRegistry, upcasters: options.upcasters });
    assertAppliersMeetStoredEvents(this.domain, this.eventPipeline);
    this.eventStore = options.eventStore ?? new InMemoryEventStore();
    this.retryPolicy = retryPolicy(options.retry);
    this.decided = new DecidedCommands(decidedCommandsLimit(options.decidedCommandsPerAggregate, 'CommandBus'));
  }

  /** Every event class the registered aggregates know, with its persisted type and version. */
  get eventRegistry(): EventRegistry {
    return this.domain.eventRegistry;
  }

  /**
   * Runs a command to completion, once per command id and aggregate: a command
   * whose `commandId` this bus already decided on its aggregate gets that
   * decision again (a {@link CommandResult.deduplicated} result, or the same
   * error thrown), and one sent while the same id is being decided waits for it.
   *
   * @returns the stored events and the aggregate's new version. When this
   *   resolves, the events are durably in the event store.
   * @throws the handler's {@link DomainError} as it was thrown;
   *   {@link MissingCommandHandlerError} for a command no aggregate handles;
   *   {@link AggregateNotFoundError} / {@link AggregateAlreadyExistsError};
   *   {@link InvalidHandlerResultError} for a creation handler whose aggregate's
   *   id is not the command's `@TargetAggregateId`;
   *   {@link RetriesExhaustedError} wrapping the last {@link WrongExpectedVersionError}
   *   when conflicts outlast the retry policy.
   *
   * @example
   * ```ts
   * const first = await bus.execute(new Increment('c-1', 1), { commandId: 'req-17' });
   * const again = await bus.execute(new Increment('c-1', 1), { commandId: 'req-17' });
   * // again.deduplicated === true, again.version === first.version
   * ```
   */
  async execute(command: object, options: ExecuteOptions = {}): Promise<CommandResult> {
    const route = this.domain.route(command);
    if (!route) throw new MissingCommandHandlerError(describeCommand(command));
    const { model, binding } = route;
    const commandId = options.commandId ?? randomUUID();
    const context: MessageContext = {
      correlationId: options.correlationId ?? commandId,
      causationId: commandId,
      metadata: { ...options.metadata },
    };
    const repository = this.repository(model.target);
    const decide = (): Promise<CommandResult> =>
      withRetry(`Command ${command.constructor.name}`, this.retryPolicy, async () => {
        if (binding.creates) return this.create(model, binding, repository, command, context);
        const aggregateId = model.targetIdOf(command, binding)!;
        const aggregate = await repository.load(aggregateId);
        await model.handle(aggregate, command, binding);
        const events = await repository.save(aggregate, context);
        return { aggregateType: model.type, aggregateId, version: aggregate.version, events };
      });
    const targetId = model.targetIdOf(command, binding);
    // In-process, so the class name is as stable as the code: what the command is, for a repeat's check.
    const fingerprint = commandFingerprint(command.constructor.name, JSON.stringify(toPlainData(command)));
    if (targetId !== undefined) return this.decided.decideOnce(model.type, targetId, commandId, fingerprint, decide);
    // A creation command without a target id: there is nothing to look up before it runs.
    const result = await decide();
    this.decided.rememberSuccess(model.type, result.aggregateId, commandId, fingerprint, result);
    return result;
  }

  /**
   * What became of a command, by its id, on the aggregate it was for: for a
   * caller that lost the reply and must not guess. Answers from this bus's
   * memory of the last {@link CommandBusOptions.decidedCommandsPerAggregate}
   * decisions of the aggregate; `unknown` for an id not among them, or still
   * being decided.
   *
   * @example
   * ```ts
   * const outcome = await bus.outcome('req-17', Counter, 'c-1');
   * if (outcome.status === 'succeeded') console.log(outcome.version);
   * ```
   */
  async outcome(commandId: string, aggregateClass: Constructor<AggregateRoot>, aggregateId: string): Promise<CommandOutcome> {
    return this.decided.outcome(this.modelOf(aggregateClass).type, aggregateId, commandId);
  }

  /** The repository of one registered aggregate class, for loading its aggregates. */
  repository<T extends AggregateRoot>(aggregateClass: Constructor<T>): AggregateRepository<T> {
    let repository = this.repositories.get(aggregateClass);
    if (!repository) {
      const model = this.modelOf(aggregateClass);
      const { snapshots, snapshotPolicy, onWarning } = this.options;
      const policy = typeof snapshotPolicy === 'function' ? snapshotPolicy(aggregateClass) : snapshotPolicy;
      const rehydrator = snapshots
        ? new Rehydrator({ aggregate: aggregateClass, eventStore: this.eventStore, snapshots, policy, pipeline: this.eventPipeline, onWarning })
        : undefined;
      repository = new AggregateRepository(model, this.eventStore, this.eventPipeline, rehydrator);
      this.repositories.set(aggregateClass, repository);
    }
    return repository as unknown as AggregateRepository<T>;
  }

  private modelOf(aggregateClass: Constructor<AggregateRoot>): AggregateModel {
    const model = this.domain.modelOfClass(aggregateClass);
    if (!model) {
      throw new InvalidOptionError(`${aggregateClass.name} is not registered with this CommandBus; add it to \`aggregates\``);
    }
    return model;
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

/**
 * Stored events and appliers must meet. An applier for an older version would
 * run on new events and never on replay; a registered class that stored events
 * end at, but that nothing applies, fails the first load that meets one.
 */
function assertAppliersMeetStoredEvents(domain: DomainModel, pipeline: EventPipeline): void {
  const applied = new Set<AnyClass>();
  for (const model of domain.models) {
    for (const eventClass of model.eventClasses) {
      applied.add(eventClass);
      const declared = getMetadataStorage().findEvent(eventClass)!;
      const current = pipeline.chain.currentVersion(declared.type);
      if (current === declared.version) continue;
      const readAs = pipeline.chain.readerVersion(declared.type, declared.version);
      const fate =
        readAs === current
          ? `read as v${current} (${domain.eventRegistry.classFor(declared.type, current)!.name})`
          : `turned into other events by the upcaster from '${declared.type}' v${readAs}`;
      throw new StaleEventClassError(model.target.name, eventClass.name, declared.type, declared.version, fate);
    }
  }
  for (const event of domain.eventRegistry.all()) {
    // Older versions and retired types are read through resolution and upcasters; only where events end matters.
    if (applied.has(event.target) || pipeline.chain.currentVersion(event.type) !== event.version) continue;
    throw new UnappliedEventError(event.target.name, event.type, event.version);
  }
}

function describeCommand(command: unknown): string {
  if (command === null || typeof command !== 'object') return `${String(command)} (commands are class instances)`;
  const name = command.constructor?.name;
  return !name || name === 'Object' ? 'a plain object (commands are instances of a class)' : name;
}
