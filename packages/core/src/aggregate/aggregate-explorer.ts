import {
  DuplicateApplierError,
  DuplicateCommandHandlerError,
  InvalidDecoratorError,
  MissingAggregateIdError,
  MissingTargetAggregateIdError,
  NotAnAggregateError,
  UndeclaredEventError,
} from '../errors/configuration.errors';
import { AnyClass, Constructor, getMetadataStorage } from '../metadata/metadata-storage';
import type { AggregateRoot } from './aggregate-root';
import { AggregateModel, CommandHandlerBinding } from './aggregate-model';

const models = new WeakMap<AnyClass, AggregateModel>();

/**
 * Reads the decorators of an aggregate class, checks them, and builds its
 * {@link AggregateModel}. Every binding error is raised here, at start-up, naming
 * the class and the event or command concerned. Models are cached per class.
 *
 * @throws {@link NotAnAggregateError}, {@link MissingAggregateIdError},
 *   {@link UndeclaredEventError}, {@link DuplicateApplierError},
 *   {@link DuplicateCommandHandlerError}, {@link MissingTargetAggregateIdError},
 *   {@link InvalidDecoratorError}
 */
export function exploreAggregate<T extends AggregateRoot>(target: Constructor<T>): AggregateModel<T> {
  const cached = models.get(target);
  if (cached) return cached as AggregateModel<T>;
  const model = buildModel(target);
  models.set(target, model);
  return model;
}

function buildModel<T extends AggregateRoot>(target: Constructor<T>): AggregateModel<T> {
  const storage = getMetadataStorage();
  const className = target?.name ?? String(target);
  const aggregate = typeof target === 'function' ? storage.findAggregate(target) : undefined;
  if (!aggregate) throw new NotAnAggregateError(className);
  if (typeof aggregate.type !== 'string' || aggregate.type.trim() === '') {
    throw new InvalidDecoratorError(`@Aggregate on ${className} needs a non-empty type name, e.g. @Aggregate('Order')`);
  }
  if (!isAggregateRootClass(target)) {
    throw new NotAnAggregateError(`${className} (it has @Aggregate but does not extend AggregateRoot)`);
  }
  const aggregateId = storage.findAggregateId(target);
  if (!aggregateId) throw new MissingAggregateIdError(className);

  // Metadata comes nearest class first: a subclass's binding overrides its
  // ancestor's, while two bindings for one message in the same class clash.
  const appliers = new Map<AnyClass, { method: string; declaredOn: AnyClass }>();
  for (const applier of storage.findAppliers(target)) {
    const where = `${className}.${applier.propertyKey}`;
    if (typeof applier.event !== 'function') {
      throw new InvalidDecoratorError(
        `@Apply on ${where} was given ${String(applier.event)} instead of an event class; check for a circular import`,
      );
    }
    validateEventClass(applier.event, `@Apply on ${where}`);
    const existing = appliers.get(applier.event);
    if (existing?.declaredOn === applier.target && existing.method !== applier.propertyKey) {
      throw new DuplicateApplierError(className, applier.event.name, existing.method, applier.propertyKey);
    }
    if (!existing) appliers.set(applier.event, { method: applier.propertyKey, declaredOn: applier.target });
  }

  const handlers = new Map<AnyClass, CommandHandlerBinding & { declaredOn: AnyClass }>();
  for (const handler of storage.findCommandHandlers(target)) {
    const where = `${className}.${handler.propertyKey}`;
    if (typeof handler.command !== 'function') {
      throw new InvalidDecoratorError(
        `@CommandHandler on ${where} was given ${String(handler.command)} instead of a command class; check for a circular import`,
      );
    }
    const existing = handlers.get(handler.command);
    if (existing?.declaredOn === handler.target && existing.method !== handler.propertyKey) {
      throw new DuplicateCommandHandlerError(handler.command.name, `${className}.${existing.method}`, where);
    }
    if (existing) continue;
    const targetId = storage.findTargetAggregateId(handler.command);
    if (!handler.isStatic && !targetId) throw new MissingTargetAggregateIdError(handler.command.name, where);
    handlers.set(handler.command, {
      command: handler.command,
      method: handler.propertyKey,
      creates: handler.isStatic,
      targetIdProperty: targetId?.propertyKey,
      declaredOn: handler.target,
    });
  }

  const applierMethods = new Map([...appliers].map(([event, { method }]) => [event, method]));
  return new AggregateModel(target, aggregate.type, aggregateId.propertyKey, applierMethods, handlers);
}

/** Checks an event class's `@Event` declaration. */
export function validateEventClass(eventClass: AnyClass, usedBy: string): void {
  const event = getMetadataStorage().findEvent(eventClass);
  if (!event) throw new UndeclaredEventError(eventClass.name, usedBy);
  if (typeof event.type !== 'string' || event.type.trim() === '') {
    throw new InvalidDecoratorError(`@Event on ${eventClass.name} needs a non-empty type name, e.g. @Event('OrderCreated')`);
  }
  if (!Number.isInteger(event.version) || event.version < 1) {
    throw new InvalidDecoratorError(
      `@Event('${event.type}') on ${eventClass.name} has version ${event.version}; versions are integers from 1`,
    );
  }
}

function isAggregateRootClass(target: AnyClass): boolean {
  // Compared by name up the chain as well as by identity, so an aggregate built
  // against a second installed copy of @tributary/core is still recognised.
  for (let proto = target.prototype; proto; proto = Object.getPrototypeOf(proto)) {
    if (proto.constructor?.name === 'AggregateRoot' && typeof proto.getUncommittedEvents === 'function') return true;
  }
  return false;
}
