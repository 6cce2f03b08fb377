import { AnyClass, Constructor, EventEnvelope, getMetadataStorage } from '@tributary/core';
import { InvalidProjectionHandlerError, InvalidProjectionNameError, NotAProjectionError } from './errors/projection.errors';
import { getProjectionMetadataStorage } from './metadata/projection-metadata-storage';
import { ProjectionDefinition } from './projection-definition';
import { ErasedAggregate, ErasureHandler, EventHandler } from './projection-handler';

/** What a runner accepts as a projection: an `@Projection` class, an instance of one, or a {@link ProjectionDefinition}. */
export type ProjectionSource<W = unknown> = Constructor | object | ProjectionDefinition<W>;

const NAME = /^[a-zA-Z0-9._-]+$/;

/**
 * A projection, validated and bound: its name and a handler per event class.
 * Built once at start-up from either form, so the runner has one shape to call.
 */
export class ProjectionModel<W = unknown> {
  private constructor(
    readonly name: string,
    private readonly handlers: ReadonlyMap<AnyClass, EventHandler<object, W>>,
    private readonly erasure: ErasureHandler<W> | undefined,
  ) {}

  /**
   * Explores an `@Projection` class (instantiated with no arguments), an
   * instance of one, or a {@link ProjectionDefinition}.
   * @throws {@link NotAProjectionError}, {@link InvalidProjectionNameError}, {@link InvalidProjectionHandlerError}
   */
  static of<W>(source: ProjectionSource<W>): ProjectionModel<W> {
    if (source instanceof ProjectionDefinition) {
      const name = checkName(source.name);
      const handlers = new Map<AnyClass, EventHandler<object, W>>();
      for (const [event, handler] of source.handlers) handlers.set(checkEvent(name, event), handler as EventHandler<object, W>);
      return new ProjectionModel(name, handlers, source.erasureHandler);
    }
    const target = (typeof source === 'function' ? source : (source as object).constructor) as AnyClass;
    const storage = getProjectionMetadataStorage();
    const metadata = storage.projectionOf(target);
    if (!metadata) throw new NotAProjectionError(target.name || String(target));
    const name = checkName(metadata.name);
    const instance = (typeof source === 'function' ? new (source as Constructor)() : source) as Record<string, unknown>;
    const handlers = new Map<AnyClass, EventHandler<object, W>>();
    for (const binding of storage.handlersOf(target)) {
      const event = checkEvent(name, binding.event, `${target.name}.${binding.propertyKey}`);
      if (handlers.has(event)) throw new InvalidProjectionHandlerError(`Projection '${name}' (${target.name}) handles ${event.name} twice; merge the handlers into one`);
      const method = instance[binding.propertyKey];
      if (typeof method !== 'function') throw new InvalidProjectionHandlerError(`${target.name}.${binding.propertyKey} is not a method`);
      handlers.set(event, (event_, envelope, writer) => method.call(instance, event_, envelope, writer));
    }
    const erasures = storage.erasureHandlersOf(target);
    if (erasures.length > 1) throw new InvalidProjectionHandlerError(`Projection '${name}' (${target.name}) has ${erasures.length} @OnErased methods; keep one`);
    const erasureMethod = erasures[0] && instance[erasures[0].propertyKey];
    const erasure = typeof erasureMethod === 'function' ? (erased: ErasedAggregate, writer: W) => erasureMethod.call(instance, erased, writer) : undefined;
    return new ProjectionModel(name, handlers, erasure);
  }

  /** The event classes the projection handles. */
  get eventClasses(): AnyClass[] {
    return [...this.handlers.keys()];
  }

  /** Whether tombstones reach an `@OnErased` handler. */
  get hasErasureHandler(): boolean {
    return this.erasure !== undefined;
  }

  /** Whether events of this class reach a handler. */
  handles(event: object): boolean {
    return this.handlers.has(event.constructor);
  }

  /** Runs the handler of the event's class, if any. */
  async handle(event: object, envelope: EventEnvelope<object>, writer: W): Promise<void> {
    const handler = this.handlers.get(event.constructor);
    if (handler) await handler(event, envelope, writer);
  }

  /** Runs the erasure handler, if any. */
  async erase(erased: ErasedAggregate, writer: W): Promise<void> {
    if (this.erasure) await this.erasure(erased, writer);
  }
}

function checkName(name: unknown): string {
  if (typeof name !== 'string' || !NAME.test(name)) throw new InvalidProjectionNameError(name);
  return name;
}

function checkEvent(projection: string, event: AnyClass | undefined, where = 'on()'): AnyClass {
  if (typeof event !== 'function') {
    throw new InvalidProjectionHandlerError(`Projection '${projection}': ${where} is bound to ${String(event)}; pass an @Event class (a circular import can leave it undefined)`);
  }
  if (!getMetadataStorage().findEvent(event)) {
    throw new InvalidProjectionHandlerError(`Projection '${projection}': ${where} is bound to ${event.name}, which has no @Event(name); declare it as an event`);
  }
  return event;
}
