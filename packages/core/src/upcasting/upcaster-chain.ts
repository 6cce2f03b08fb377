import { UnknownEventTypeError } from '../errors/aggregate.errors';
import {
  DuplicateUpcasterError,
  InvalidUpcastResultError,
  MisplacedUpcasterError,
  UpcastFailedError,
  UpcasterGapError,
  UpcasterLoopError,
} from '../errors/upcasting.errors';
import { EventRegistry } from '../events/event-registry';
import { EventRecord, Upcaster, assertUpcaster, isEventRecord } from './upcaster';

/**
 * Upcaster steps one stored event may take. Real chains take a handful; a
 * bound turns upcasters that feed each other in a loop into an error instead of
 * a hung reader.
 */
export const MAX_UPCAST_STEPS = 100;

/**
 * Where an event was met, for error messages: the words, or a function giving
 * them, so readers pay for the text only when something fails.
 */
export type Where = string | (() => string) | undefined;

function place(where: Where): string | undefined {
  return typeof where === 'function' ? where() : where;
}

/**
 * The upcasters of an application, keyed by event type and version, with the
 * rules that take any stored event to the current classes.
 *
 * The current version of a type is the highest version an `@Event` class
 * registers for it, unless an upcaster starts at that very version: then the
 * type is retired (renamed, split into others, or dropped) and its classes are
 * kept only to read history.
 *
 * Reader version: an event written as type T version v is read (by schema
 * resolution, where the serializer has one) as the smallest version r ≥ v of T
 * that is current or where an upcaster starts. JSON has no resolution: it passes
 * the payload on as written, and missing fields take the class's defaults.
 *
 * Building one checks the upcasters against the registry and fails fast.
 *
 * @throws at construction {@link InvalidOptionError} for a malformed upcaster,
 *   {@link DuplicateUpcasterError}, {@link MisplacedUpcasterError}.
 *
 * @example
 * ```ts
 * const chain = new UpcasterChain([renameCustomer, splitShipped], bus.eventRegistry);
 * chain.upcast({ type: 'OrderShipped', schemaVersion: 1, payload: { carrier: 'DHL' } });
 * // [{ type: 'OrderPacked', … }, { type: 'OrderDispatched', … }]
 * ```
 */
export class UpcasterChain {
  private readonly upcasters = new Map<string, Upcaster>();
  private readonly startsByType = new Map<string, number[]>();
  /** Reader version by type and written version, valid for one registry revision. */
  private readonly readerVersions = new Map<string, Map<number, number>>();
  private readonly currentVersions = new Map<string, number | undefined>();
  private cachedAt = -1;

  constructor(
    upcasters: Iterable<Upcaster>,
    private readonly registry: EventRegistry,
  ) {
    for (const upcaster of upcasters ?? []) {
      assertUpcaster(upcaster, 'UpcasterChain');
      const key = typeKey(upcaster.type, upcaster.fromVersion);
      const rival = this.upcasters.get(key);
      // The same upcaster listed twice is harmless; two different ones are a conflict.
      if (rival === upcaster) continue;
      if (rival) throw new DuplicateUpcasterError(upcaster.type, upcaster.fromVersion);
      this.upcasters.set(key, upcaster);
      const starts = this.startsByType.get(upcaster.type) ?? [];
      starts.push(upcaster.fromVersion);
      starts.sort((a, b) => a - b);
      this.startsByType.set(upcaster.type, starts);
    }
    this.validate();
  }

  /**
   * Fails fast, naming the gap. Checks that no upcaster starts above the newest
   * class of its type and, given the versions of each type that have been
   * written (e.g. those a schema registry holds), that each has a path to a
   * current class. The constructor runs it without `written`.
   *
   * @throws {@link MisplacedUpcasterError}, {@link UpcasterGapError}, {@link UnknownEventTypeError}.
   */
  validate(written: Iterable<{ readonly type: string; readonly version: number }> = [], where = 'Checking the upcasters'): void {
    for (const upcaster of this.upcasters.values()) {
      const newest = this.registry.currentVersion(upcaster.type);
      if (newest !== undefined && upcaster.fromVersion > newest) {
        const newestClass = this.registry.classFor(upcaster.type, newest)!.name;
        throw new MisplacedUpcasterError(upcaster.type, upcaster.fromVersion, newest, newestClass);
      }
    }
    for (const { type, version } of written) this.readerVersion(type, version, where);
  }

  /**
   * The version stored events of a type end at: its newest class, or `undefined`
   * when no class declares it or an upcaster retires it.
   */
  currentVersion(type: string): number | undefined {
    this.refreshCaches();
    if (this.currentVersions.has(type)) return this.currentVersions.get(type);
    const newest = this.registry.currentVersion(type);
    const current = newest !== undefined && !this.upcasters.has(typeKey(type, newest)) ? newest : undefined;
    this.currentVersions.set(type, current);
    return current;
  }

  /** Drops what was derived from the registry when classes were registered since. */
  private refreshCaches(): void {
    if (this.cachedAt === this.registry.revision) return;
    this.readerVersions.clear();
    this.currentVersions.clear();
    this.cachedAt = this.registry.revision;
  }

  /** The upcaster starting at a type and version, if any. */
  upcasterFor(type: string, version: number): Upcaster | undefined {
    return this.upcasters.get(typeKey(type, version));
  }

  /** Whether any upcaster is registered. Readers skip upcasting work when none is. */
  get isEmpty(): boolean {
    return this.upcasters.size === 0;
  }

  /**
   * The version an event written as `type` v`writtenVersion` is read as: the
   * smallest version from the written one up that is current or where an
   * upcaster starts. Serializers resolve the writer's schema to it.
   *
   * @param where - where the event was met, for the error, e.g. `Reading topic t, partition 2, offset 41`.
   * @throws {@link UnknownEventTypeError} if neither a class nor an upcaster knows
   *   the type; {@link UpcasterGapError} if they do, but none reads that version.
   */
  readerVersion(type: string, writtenVersion: number, where?: Where): number {
    // Every record of a log asks this; the answer changes only when classes are registered.
    this.refreshCaches();
    const known = this.readerVersions.get(type)?.get(writtenVersion);
    if (known !== undefined) return known;
    const found = this.findReaderVersion(type, writtenVersion, where);
    let byVersion = this.readerVersions.get(type);
    if (!byVersion) this.readerVersions.set(type, (byVersion = new Map()));
    byVersion.set(writtenVersion, found);
    return found;
  }

  private findReaderVersion(type: string, writtenVersion: number, where: Where): number {
    if (Number.isInteger(writtenVersion) && writtenVersion >= 1) {
      const current = this.currentVersion(type);
      const upcasterStart = this.startsByType.get(type)?.find((version) => version >= writtenVersion);
      // Upcasters never start above the current version (validate), so the first one wins when there is one.
      if (upcasterStart !== undefined) return upcasterStart;
      if (current !== undefined && current >= writtenVersion) return current;
    }
    throw this.gap(type, writtenVersion, where);
  }

  /**
   * Takes a record to the current classes: reads it at its reader version, then
   * runs upcasters on it and on what they return until every event is at the
   * current version of its type. Deterministic as long as the upcasters are.
   *
   * @returns the current records, in order: one, several (a split), or none (a drop).
   * @throws {@link UpcasterGapError} / {@link UnknownEventTypeError} for a record or
   *   an upcaster's output with no path; {@link UpcastFailedError} if an upcaster
   *   throws; {@link InvalidUpcastResultError} if it returns something else than
   *   records; {@link UpcasterLoopError} past {@link MAX_UPCAST_STEPS} steps.
   */
  upcast(record: EventRecord, where?: Where): EventRecord[] {
    // Most records of a log are current already: no budget, no trail.
    if (record.schemaVersion === this.currentVersion(record.type) && this.readerVersion(record.type, record.schemaVersion, where) === record.schemaVersion) {
      return [record];
    }
    const results: EventRecord[] = [];
    this.upcastInto(record, where, results, { steps: 0, trail: [], origin: record });
    return results;
  }

  /**
   * The path an event written as `type` v`version` takes, one line per step, for
   * messages such as a start-up check's. What an upcaster returns is only known
   * when it runs, so the path is described up to the first upcaster. Never throws:
   * a gap is described as the last step.
   */
  explain(type: string, version: number): string[] {
    let readAs: number;
    try {
      readAs = this.readerVersion(type, version);
    } catch (error) {
      return [(error as Error).message];
    }
    const steps: string[] = [];
    if (readAs !== version) {
      steps.push(
        `'${type}' v${version} is read as v${readAs}: a serializer with schema resolution (Avro) resolves the writer's schema to v${readAs}'s, ` +
          `JSON passes the payload on as written`,
      );
    }
    if (readAs === this.currentVersion(type)) {
      steps.push(`'${type}' v${readAs} is current: it becomes an instance of ${this.registry.classFor(type, readAs)!.name}`);
    } else {
      steps.push(
        `the upcaster from '${type}' v${readAs} runs; each event it returns is upcast in turn until it is at the current version of its type`,
      );
    }
    return steps;
  }

  private upcastInto(record: EventRecord, where: Where, results: EventRecord[], budget: Budget): void {
    const version = this.readerVersion(record.type, record.schemaVersion, where);
    const atVersion = version === record.schemaVersion ? record : { type: record.type, schemaVersion: version, payload: record.payload };
    if (version === this.currentVersion(record.type)) {
      results.push(atVersion);
      return;
    }
    budget.steps += 1;
    budget.trail.push(`'${record.type}' v${version}`);
    if (budget.steps > MAX_UPCAST_STEPS) {
      throw new UpcasterLoopError(budget.origin.type, budget.origin.schemaVersion, place(where), MAX_UPCAST_STEPS, budget.trail.slice(-6));
    }
    const upcaster = this.upcasters.get(typeKey(record.type, version))!;
    let output: EventRecord | readonly EventRecord[];
    try {
      // Frozen, so an upcaster that edits its input fails the same way on every store, not only on those that freeze.
      output = upcaster.upcast(deepFreeze({ type: atVersion.type, schemaVersion: version, payload: atVersion.payload }));
    } catch (error) {
      throw new UpcastFailedError(record.type, version, place(where), error);
    }
    const outputs: readonly unknown[] = Array.isArray(output) ? output : [output];
    for (const next of outputs) {
      if (!isEventRecord(next)) throw new InvalidUpcastResultError(record.type, version, place(where), describeValue(output, next));
    }
    for (const next of outputs as readonly EventRecord[]) this.upcastInto(next, where, results, budget);
  }

  private gap(type: string, version: number, lazyWhere: Where): Error {
    const where = place(lazyWhere);
    const classVersions = this.registry.versionsOf(type);
    const upcasterVersions = this.startsByType.get(type) ?? [];
    if (classVersions.length === 0 && upcasterVersions.length === 0) {
      return new UnknownEventTypeError(type, version, where ?? `Event type '${type}' v${version}`);
    }
    const currentVersion = this.currentVersion(type);
    const currentClass = currentVersion === undefined ? undefined : this.registry.classFor(type, currentVersion)?.name;
    return new UpcasterGapError(type, version, { classVersions, currentVersion, currentClass, upcasterVersions: [...upcasterVersions] }, where);
  }
}

interface Budget {
  steps: number;
  readonly trail: string[];
  readonly origin: EventRecord;
}

function typeKey(type: string, version: number): string {
  return `${type}@${version}`;
}

function deepFreeze<T>(value: T): T {
  // Buffers and other typed arrays (Avro `bytes`) cannot be frozen; they are left as they are.
  if (value && typeof value === 'object' && !ArrayBuffer.isView(value) && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

function describeValue(output: unknown, offending: unknown): string {
  const describe = (value: unknown): string => {
    if (value === null || value === undefined) return String(value);
    if (typeof value === 'object' && typeof (value as { then?: unknown }).then === 'function') return 'a Promise';
    if (typeof value !== 'object') return `a ${typeof value}`;
    try {
      return JSON.stringify(value).slice(0, 200);
    } catch {
      return `an instance of ${value.constructor?.name ?? 'Object'}`;
    }
  };
  return Array.isArray(output) ? `an array holding ${describe(offending)}` : describe(offending);
}
