import { AnyClass } from '@tributary/core';

/** `@Projection(name)` on a class. */
export interface ProjectionClassMetadata {
  readonly target: AnyClass;
  readonly name: string;
}

/** `@On(EventClass)` on a method. */
export interface EventHandlerMetadata {
  readonly target: AnyClass;
  readonly propertyKey: string;
  /** Undefined when a circular import left the class unresolved; the explorer reports it. */
  readonly event: AnyClass | undefined;
}

/** `@OnErased()` on a method. */
export interface ErasureHandlerMetadata {
  readonly target: AnyClass;
  readonly propertyKey: string;
}

/**
 * The one place projection decorators write to. Decorators only record what
 * they were told; {@link exploreProjection} reads, validates and binds it.
 * Lookups walk the prototype chain so handlers declared on a base class count.
 */
export class ProjectionMetadataStorage {
  private readonly projections = new Map<AnyClass, ProjectionClassMetadata>();
  private readonly handlers: EventHandlerMetadata[] = [];
  private readonly erasureHandlers: ErasureHandlerMetadata[] = [];

  addProjection(metadata: ProjectionClassMetadata): void {
    this.projections.set(metadata.target, metadata);
  }

  addHandler(metadata: EventHandlerMetadata): void {
    this.handlers.push(metadata);
  }

  addErasureHandler(metadata: ErasureHandlerMetadata): void {
    this.erasureHandlers.push(metadata);
  }

  projectionOf(target: AnyClass): ProjectionClassMetadata | undefined {
    return this.projections.get(target);
  }

  handlersOf(target: AnyClass): EventHandlerMetadata[] {
    const chain = prototypeChain(target);
    return this.handlers.filter((handler) => chain.includes(handler.target));
  }

  erasureHandlersOf(target: AnyClass): ErasureHandlerMetadata[] {
    const chain = prototypeChain(target);
    return this.erasureHandlers.filter((handler) => chain.includes(handler.target));
  }
}

function prototypeChain(target: AnyClass): AnyClass[] {
  const chain: AnyClass[] = [];
  for (let current: unknown = target; typeof current === 'function' && current !== Function.prototype; current = Object.getPrototypeOf(current)) {
    chain.push(current as AnyClass);
  }
  return chain;
}

// One storage per loaded copy of the package, shared through a global symbol so
// that two copies (a linked workspace and an installed one) still agree.
const STORAGE = Symbol.for('tributary.projections.metadata-storage');

/** The process's projection metadata storage. */
export function getProjectionMetadataStorage(): ProjectionMetadataStorage {
  const holder = globalThis as { [STORAGE]?: ProjectionMetadataStorage };
  return (holder[STORAGE] ??= new ProjectionMetadataStorage());
}
