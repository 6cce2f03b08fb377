import { Constructor } from '@tributary/core';
import { InvalidProjectionHandlerError } from './errors/projection.errors';
import { ErasureHandler, EventHandler } from './projection-handler';

/**
 * A projection built without decorators: a name and a handler per event class.
 * Made with {@link defineProjection}; the runner takes it as it takes an
 * `@Projection` class.
 */
export class ProjectionDefinition<W = unknown> {
  private readonly eventHandlers = new Map<Constructor, EventHandler<never, W>>();
  private erasure?: ErasureHandler<W>;

  /** @internal use {@link defineProjection}. */
  constructor(readonly name: string) {}

  /** Handles events of one class; one handler per class. */
  on<E extends object>(event: Constructor<E>, handler: EventHandler<E, W>): this {
    if (typeof event !== 'function') throw new InvalidProjectionHandlerError(`Projection '${this.name}': on() needs an @Event class, got ${String(event)}`);
    if (this.eventHandlers.has(event)) throw new InvalidProjectionHandlerError(`Projection '${this.name}' handles ${event.name} twice; merge the handlers into one`);
    this.eventHandlers.set(event, handler as EventHandler<never, W>);
    return this;
  }

  /** Handles erasure tombstones (see `@OnErased`). */
  onErased(handler: ErasureHandler<W>): this {
    this.erasure = handler;
    return this;
  }

  /** @internal */
  get handlers(): ReadonlyMap<Constructor, EventHandler<never, W>> {
    return this.eventHandlers;
  }

  /** @internal */
  get erasureHandler(): ErasureHandler<W> | undefined {
    return this.erasure;
  }
}

/**
 * Starts a projection in the functional form.
 *
 * @example
 * ```ts
 * const customerOrders = defineProjection<RedisWriter>('customer-orders')
 *   .on(OrderCreated, (event, envelope, redis) => {
 *     redis.multi.sadd(redis.key(`customer:${event.customerId}:orders`), envelope.aggregateId);
 *   });
 * ```
 */
export function defineProjection<W = unknown>(name: string): ProjectionDefinition<W> {
  return new ProjectionDefinition<W>(name);
}
