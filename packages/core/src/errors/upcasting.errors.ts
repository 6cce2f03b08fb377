import { ConfigurationError, TributaryError } from './tributary.error';

/** What the code declares for one event type, as an {@link UpcasterGapError} reports it. */
export interface DeclaredVersions {
  /** Versions that `@Event` classes declare, ascending. */
  readonly classVersions: readonly number[];
  /** The version events of the type end at, or `undefined` when an upcaster retires the type. */
  readonly currentVersion: number | undefined;
  /** Class declaring the current version, when there is one. */
  readonly currentClass?: string;
  /** Versions at which an upcaster starts, ascending. */
  readonly upcasterVersions: readonly number[];
}

/**
 * An event written as type T version N has no path to a current class: no class
 * is current for T at or above N, and no upcaster starts at N or above. Thrown at
 * start-up when the check is given the versions written so far, and when such an
 * event is read, naming where it was read.
 */
export class UpcasterGapError extends ConfigurationError {
  static readonly code = 'UPCASTER_GAP';
  constructor(
    readonly type: string,
    readonly version: number,
    declared: DeclaredVersions,
    where?: string,
  ) {
    super(located(where, gapMessage(type, version, declared)), UpcasterGapError.code);
  }
}

function gapMessage(type: string, version: number, declared: DeclaredVersions): string {
  const classes =
    declared.classVersions.length === 0 ? 'no class declares any version of it' : `classes declare ${versions(declared.classVersions)}`;
  const current =
    declared.currentVersion !== undefined
      ? `the current version is v${declared.currentVersion} (${declared.currentClass})`
      : 'no version of it is current';
  const upcasters =
    declared.upcasterVersions.length === 0
      ? 'no upcaster starts at any version of it'
      : `upcasters start at ${versions(declared.upcasterVersions)}`;
  const found = `${classes}, ${current}, and ${upcasters}`;
  const upcast = `defineUpcaster('${type}', ${version}, …) that turns it into current events`;
  if (!Number.isInteger(version) || version < 1) {
    return `event type '${type}' has the version ${version}, which no class or upcaster can read (${found}); versions are whole numbers from 1`;
  }
  const todo =
    declared.currentVersion !== undefined && version > declared.currentVersion
      ? `it was written by newer code: deploy the class declaring @Event('${type}', { version: ${version} }) here too, or add an upcaster ${upcast}`
      : `add an upcaster ${upcast}`;
  return `event type '${type}' v${version} has no path to a current class: ${found}; ${todo}`;
}

/** Two upcasters start at the same event type and version. */
export class DuplicateUpcasterError extends ConfigurationError {
  static readonly code = 'DUPLICATE_UPCASTER';
  constructor(
    readonly type: string,
    readonly fromVersion: number,
  ) {
    super(
      `Two upcasters start at event type '${type}' v${fromVersion}; a stored event has exactly one path, ` +
        `so keep one upcaster there and move the other's logic into it`,
      DuplicateUpcasterError.code,
    );
  }
}

/**
 * An upcaster starts above the newest version a class declares for its type:
 * events are upcast towards the newest class, never past it, so it would never run.
 */
export class MisplacedUpcasterError extends ConfigurationError {
  static readonly code = 'MISPLACED_UPCASTER';
  constructor(
    readonly type: string,
    readonly fromVersion: number,
    newestVersion: number,
    newestClass: string,
  ) {
    super(
      `An upcaster starts at event type '${type}' v${fromVersion}, above v${newestVersion}, the newest version a class ` +
        `declares (${newestClass}); events are upcast towards the newest class and never past it, so this upcaster would never run. ` +
        `Register the class it upcasts to (e.g. @Event('${type}', { version: ${fromVersion + 1} })), or start it at a version up to v${newestVersion}`,
      MisplacedUpcasterError.code,
    );
  }
}

/**
 * An aggregate applies an event class that stored events never turn into: a
 * newer version of its type is current, or an upcaster retires that version.
 * Its applier would run for new events but not on replay, so replay and live
 * state would part.
 */
export class StaleEventClassError extends ConfigurationError {
  static readonly code = 'STALE_EVENT_CLASS';
  constructor(aggregateClass: string, eventClass: string, type: string, version: number, readAs: string) {
    super(
      `${aggregateClass} applies ${eventClass} ('${type}' v${version}), but stored '${type}' v${version} events are ${readAs}, ` +
        `so its applier would never see one on replay; apply the current class instead, and keep ${eventClass} ` +
        `only for reading old events (in \`events\`)`,
      StaleEventClassError.code,
    );
  }
}

/**
 * An event class is registered and is where stored events of its type end,
 * but no aggregate applies it: loading a stream that holds one would fail.
 * Usually an upcaster was forgotten for a type that was renamed, split or dropped.
 */
export class UnappliedEventError extends ConfigurationError {
  static readonly code = 'UNAPPLIED_EVENT';
  constructor(eventClass: string, type: string, version: number) {
    super(
      `${eventClass} ('${type}' v${version}) is registered and stored '${type}' events are read as it, but no aggregate applies it, ` +
        `so loading a stream that holds one would fail; add an upcaster that turns it into events the aggregates apply ` +
        `(defineUpcaster('${type}', ${version}, …)), or an @Apply(${eventClass}) to the aggregate that stores it`,
      UnappliedEventError.code,
    );
  }
}

/** An upcaster threw. Not retriable: upcasters are pure, so it would throw again. */
export class UpcastFailedError extends TributaryError {
  static readonly code = 'UPCAST_FAILED';
  constructor(
    readonly type: string,
    readonly version: number,
    where: string | undefined,
    cause: unknown,
  ) {
    super(
      located(
        where,
        `the upcaster from event type '${type}' v${version} threw: ` +
          `${cause instanceof Error ? cause.message : String(cause)}; fix the upcaster (the event it failed on stays unread until then)`,
      ),
      { code: UpcastFailedError.code, retriable: false, cause },
    );
  }
}

/** An upcaster returned something other than event records. */
export class InvalidUpcastResultError extends TributaryError {
  static readonly code = 'INVALID_UPCAST_RESULT';
  constructor(
    readonly type: string,
    readonly version: number,
    where: string | undefined,
    found: string,
  ) {
    super(
      located(
        where,
        `the upcaster from event type '${type}' v${version} returned ${found}; an upcaster returns, synchronously, ` +
          `an event record { type, schemaVersion, payload } (schemaVersion a whole number from 1, payload an object) ` +
          `or an array of them ([] drops the event)`,
      ),
      { code: InvalidUpcastResultError.code, retriable: false },
    );
  }
}

/** Upcasting one stored event took more steps than any real chain needs: upcasters feed each other in a loop. */
export class UpcasterLoopError extends TributaryError {
  static readonly code = 'UPCASTER_LOOP';
  constructor(
    readonly type: string,
    readonly version: number,
    where: string | undefined,
    limit: number,
    trail: readonly string[],
  ) {
    super(
      located(
        where,
        `upcasting event type '${type}' v${version} did not reach current classes within ${limit} upcaster steps ` +
          `(last steps: ${trail.join(' → ')}); upcasters that turn events back into earlier types or versions loop, ` +
          `so make every step move towards a current class`,
      ),
      { code: UpcasterLoopError.code, retriable: false },
    );
  }
}

/** `Reading topic t, partition 2, offset 41: the upcaster …`, or the sentence alone when nobody said where. */
function located(where: string | undefined, text: string): string {
  return where ? `${where}: ${text}` : `${text.charAt(0).toUpperCase()}${text.slice(1)}`;
}

function versions(list: readonly number[]): string {
  return list.map((version) => `v${version}`).join(', ');
}
