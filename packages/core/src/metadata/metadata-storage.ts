/** Any class. Decorator metadata is keyed by the constructor it was declared on. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Constructor<T = object> = new (...args: any[]) => T;
// eslint-disable-next-line @typescript-eslint/ban-types
export type AnyClass = Function;

export interface EventMetadata {
  readonly target: AnyClass;
  readonly type: string;
  readonly version: number;
}

export interface CommandMetadata {
  readonly target: AnyClass;
  readonly name: string;
}

export interface AggregateMetadata {
  readonly target: AnyClass;
  readonly type: string;
  /** Declared with `@Aggregate(type, { shapeVersion })`; derived when absent. */
  readonly shapeVersion?: string;
}

export interface PropertyMetadata {
  readonly target: AnyClass;
  readonly propertyKey: string;
}

export interface CommandHandlerMetadata {
  readonly target: AnyClass;
  readonly propertyKey: string;
  /** May be undefined when a circular import left the class unresolved; the explorer reports it. */
  readonly command: AnyClass | undefined;
  /** Static handlers create the aggregate; instance handlers act on an existing one. */
  readonly isStatic: boolean;
}

export interface ApplierMetadata {
  readonly target: AnyClass;
  readonly propertyKey: string;
  readonly event: AnyClass | undefined;
}

/**
 * The one place decorators write to. Decorators only record what they were told;
 * the explorer reads these records at start-up, validates them and builds the
 * handler maps. Lookups walk the prototype chain so base-class decorators count.
 */
export class MetadataStorage {
  private readonly events = new Map<AnyClass, EventMetadata>();
  private readonly commands = new Map<AnyClass, CommandMetadata>();
  private readonly aggregates = new Map<AnyClass, AggregateMetadata>();
  private readonly aggregateIds = new Map<AnyClass, PropertyMetadata>();
  private readonly targetAggregateIds = new Map<AnyClass, PropertyMetadata>();
  private readonly commandHandlers: CommandHandlerMetadata[] = [];
  private readonly appliers: ApplierMetadata[] = [];

  addEvent(metadata: EventMetadata): void {
    this.events.set(metadata.target, metadata);
  }

  addCommand(metadata: CommandMetadata): void {
    this.commands.set(metadata.target, metadata);
  }

  addAggregate(metadata: AggregateMetadata): void {
    this.aggregates.set(metadata.target, metadata);
  }

  addAggregateId(metadata: PropertyMetadata): void {
    this.aggregateIds.set(metadata.target, metadata);
  }

  addTargetAggregateId(metadata: PropertyMetadata): void {
    this.targetAggregateIds.set(metadata.target, metadata);
  }

  addCommandHandler(metadata: CommandHandlerMetadata): void {
    this.commandHandlers.push(metadata);
  }

  addApplier(metadata: ApplierMetadata): void {
    this.appliers.push(metadata);
  }

  /** The `@Event` declared on exactly this class; event types are never inherited. */
  findEvent(target: AnyClass): EventMetadata | undefined {
    return this.events.get(target);
  }

  /** The `@Command` declared on exactly this class. */
  findCommand(target: AnyClass): CommandMetadata | undefined {
    return this.commands.get(target);
  }

  /** The `@Aggregate` declared on exactly this class; a subclass is a different aggregate type. */
  findAggregate(target: AnyClass): AggregateMetadata | undefined {
    return this.aggregates.get(target);
  }

  findAggregateId(target: AnyClass): PropertyMetadata | undefined {
    return this.findInChain(target, (cls) => this.aggregateIds.get(cls));
  }

  findTargetAggregateId(target: AnyClass): PropertyMetadata | undefined {
    return this.findInChain(target, (cls) => this.targetAggregateIds.get(cls));
  }

  /** Handlers of the class and its ancestors, nearest class first. */
  findCommandHandlers(target: AnyClass): CommandHandlerMetadata[] {
    const chain = classChain(target);
    return chain.flatMap((cls) => this.commandHandlers.filter((h) => h.target === cls));
  }

  /** Appliers of the class and its ancestors, nearest class first. */
  findAppliers(target: AnyClass): ApplierMetadata[] {
    const chain = classChain(target);
    return chain.flatMap((cls) => this.appliers.filter((a) => a.target === cls));
  }

  /** Forgets everything recorded. For tests that declare classes on the fly. */
  clear(): void {
    this.events.clear();
    this.commands.clear();
    this.aggregates.clear();
    this.aggregateIds.clear();
    this.targetAggregateIds.clear();
    this.commandHandlers.length = 0;
    this.appliers.length = 0;
  }

  private findInChain<T>(target: AnyClass, lookup: (cls: AnyClass) => T | undefined): T | undefined {
    for (const cls of classChain(target)) {
      const found = lookup(cls);
      if (found !== undefined) return found;
    }
    return undefined;
  }
}

function classChain(target: AnyClass): AnyClass[] {
  const chain: AnyClass[] = [];
  for (let cls: unknown = target; typeof cls === 'function' && cls !== Function.prototype; cls = Object.getPrototypeOf(cls)) {
    chain.push(cls as AnyClass);
  }
  return chain;
}

// Two installed copies of @tributary/core must share one storage, or decorators
// applied through one copy would be invisible to the other.
const STORAGE_KEY = Symbol.for('@tributary/core:metadata-storage');

/** The process-wide metadata storage. */
export function getMetadataStorage(): MetadataStorage {
  const holder = globalThis as { [STORAGE_KEY]?: MetadataStorage };
  return (holder[STORAGE_KEY] ??= new MetadataStorage());
}
