import {
  DuplicateAggregateTypeError,
  DuplicateCommandHandlerError,
  InvalidOptionError,
} from '../errors/configuration.errors';
import { EventRegistry } from '../events/event-registry';
import { AnyClass, Constructor } from '../metadata/metadata-storage';
import { exploreAggregate } from './aggregate-explorer';
import { AggregateModel, CommandHandlerBinding } from './aggregate-model';
import { AggregateRoot } from './aggregate-root';

/** Where a command goes: the aggregate model and the handler binding. */
export interface CommandRoute {
  readonly model: AggregateModel;
  readonly binding: CommandHandlerBinding;
}

/**
 * The validated model of a set of aggregates: their types, the route of every
 * command, and the registry of every event they apply. Command buses, in
 * process or over Kafka, are built on one.
 *
 * @throws at construction, every start-up validation error of the aggregates,
 *   plus {@link DuplicateAggregateTypeError} and {@link DuplicateCommandHandlerError}
 *   across them.
 */
export class DomainModel {
  readonly eventRegistry = new EventRegistry();
  private readonly byClass = new Map<AnyClass, AggregateModel>();
  private readonly byType = new Map<string, AggregateModel>();
  private readonly routes = new Map<AnyClass, CommandRoute>();

  constructor(aggregates: readonly Constructor<AggregateRoot>[], extraEvents: readonly AnyClass[] = []) {
    if (!Array.isArray(aggregates) || aggregates.length === 0) {
      throw new InvalidOptionError('`aggregates` must be a non-empty array of @Aggregate classes');
    }
    for (const aggregateClass of aggregates) {
      const model = exploreAggregate(aggregateClass);
      const rival = this.byType.get(model.type);
      if (rival && rival.target !== model.target) {
        throw new DuplicateAggregateTypeError(model.type, rival.target.name, model.target.name);
      }
      this.byType.set(model.type, model);
      this.byClass.set(aggregateClass, model);
      for (const eventClass of model.eventClasses) this.eventRegistry.register(eventClass, model.target.name);
      for (const [command, binding] of model.commandHandlers) {
        const rivalRoute = this.routes.get(command);
        if (rivalRoute && rivalRoute.model !== model) {
          throw new DuplicateCommandHandlerError(
            command.name,
            `${rivalRoute.model.target.name}.${rivalRoute.binding.method}`,
            `${model.target.name}.${binding.method}`,
          );
        }
        this.routes.set(command, { model, binding });
      }
    }
    for (const eventClass of extraEvents) this.eventRegistry.register(eventClass, 'options.events');
  }

  /** The registered aggregate models. */
  get models(): AggregateModel[] {
    return [...this.byType.values()];
  }

  /** Every command class some registered aggregate handles. */
  get commandClasses(): AnyClass[] {
    return [...this.routes.keys()];
  }

  /** Where a command instance goes, or `undefined` if no registered aggregate handles it. */
  route(command: object): CommandRoute | undefined {
    return command && typeof command === 'object' ? this.routes.get(command.constructor) : undefined;
  }

  modelOfClass<T extends AggregateRoot>(aggregateClass: Constructor<T>): AggregateModel<T> | undefined {
    return this.byClass.get(aggregateClass) as AggregateModel<T> | undefined;
  }

  modelOfType(aggregateType: string): AggregateModel | undefined {
    return this.byType.get(aggregateType);
  }
}
