import { DuplicateEventTypeError, UndeclaredEventError } from '../errors/configuration.errors';
import { UnknownEventTypeError } from '../errors/aggregate.errors';
import { AnyClass, Constructor, EventMetadata, getMetadataStorage } from '../metadata/metadata-storage';
import { EventData } from './event-envelope';
import { fromPlainData, toPlainData } from './plain-data';

/**
 * Maps event classes to their persisted type and version and back, and converts
 * payloads between class instances and stored data with class-transformer.
 *
 * Built at start-up from the events that registered aggregates apply, so two
 * unrelated test suites may reuse a type name without clashing.
 */
export class EventRegistry {
  private readonly byClass = new Map<AnyClass, EventMetadata>();
  private readonly byTypeAndVersion = new Map<string, EventMetadata>();
  // Versions of each type, ascending, for the upcasting rules that ask for the newest.
  private readonly versionsByType = new Map<string, number[]>();
  private registrations = 0;

  constructor(eventClasses: Iterable<AnyClass> = []) {
    for (const eventClass of eventClasses) this.register(eventClass, 'EventRegistry');
  }

  /**
   * Adds an `@Event` class. Throws {@link UndeclaredEventError} if it has no
   * `@Event`, or {@link DuplicateEventTypeError} if another class already claims
   * its type and version.
   */
  register(eventClass: AnyClass, usedBy: string): EventMetadata {
    const known = this.byClass.get(eventClass);
    if (known) return known;
    const metadata = getMetadataStorage().findEvent(eventClass);
    if (!metadata) throw new UndeclaredEventError(eventClass.name, usedBy);
    const key = typeKey(metadata.type, metadata.version);
    const rival = this.byTypeAndVersion.get(key);
    if (rival) throw new DuplicateEventTypeError(metadata.type, metadata.version, rival.target.name, eventClass.name);
    this.byClass.set(eventClass, metadata);
    this.byTypeAndVersion.set(key, metadata);
    const versions = this.versionsByType.get(metadata.type) ?? [];
    versions.push(metadata.version);
    versions.sort((a, b) => a - b);
    this.versionsByType.set(metadata.type, versions);
    this.registrations += 1;
    return metadata;
  }

  /** Grows with every class registered: lets readers cache what they derive from the registry. */
  get revision(): number {
    return this.registrations;
  }

  /** Type and version of an event instance. */
  describe(event: object): EventMetadata | undefined {
    return this.byClass.get(event.constructor);
  }

  classFor(type: string, version: number): Constructor | undefined {
    return this.byTypeAndVersion.get(typeKey(type, version))?.target as Constructor | undefined;
  }

  /**
   * The highest version registered for an event type, or `undefined` if no class
   * declares the type. Stored events of older versions are read as this one,
   * through schema resolution and upcasters (see {@link UpcasterChain}).
   */
  currentVersion(type: string): number | undefined {
    const versions = this.versionsByType.get(type);
    return versions?.[versions.length - 1];
  }

  /** Every version registered for an event type, ascending; empty if no class declares it. */
  versionsOf(type: string): number[] {
    return [...(this.versionsByType.get(type) ?? [])];
  }

  /** All registered events. */
  all(): EventMetadata[] {
    return [...this.byClass.values()];
  }

  /** Converts an event instance to JSON-safe data: what any store can keep. */
  toData(event: object): EventData {
    return toPlainData(event);
  }

  /** Converts stored data back into an instance of the class registered for that type and version. */
  fromData(type: string, version: number, data: EventData, context: string): object {
    const eventClass = this.classFor(type, version);
    if (!eventClass) throw new UnknownEventTypeError(type, version, context);
    return fromPlainData(eventClass, data);
  }
}

function typeKey(type: string, version: number): string {
  return `${type}@${version}`;
}
