import { AggregateRoot } from '../aggregate/aggregate-root';
import { InvalidOptionError } from '../errors/configuration.errors';

/** What a {@link SnapshotPolicy} decides on, after a load. */
export interface SnapshotDecision<T extends AggregateRoot = AggregateRoot> {
  readonly aggregate: T;
  /** The aggregate's version now. */
  readonly version: number;
  /** Events applied since the snapshot the load started from (all of them without one). */
  readonly eventsSinceSnapshot: number;
  /** How long the load took, in milliseconds. */
  readonly loadMs: number;
}

/**
 * When to take a snapshot of an aggregate after loading it. Snapshots are
 * written off the caller's path: a failed write is reported, never thrown.
 *
 * @example
 * ```ts
 * const policy = SnapshotPolicies.any(SnapshotPolicies.everyEvents(100), SnapshotPolicies.slowerThan(50));
 * ```
 */
export interface SnapshotPolicy<T extends AggregateRoot = AggregateRoot> {
  shouldSnapshot(decision: SnapshotDecision<T>): boolean;
}

/** The usual policies, and a way to combine them. */
export const SnapshotPolicies = {
  /** When `count` or more events were applied since the last snapshot. */
  everyEvents(count: number): SnapshotPolicy {
    if (!Number.isInteger(count) || count < 1) throw new InvalidOptionError(`SnapshotPolicies.everyEvents needs a whole number of at least 1, got ${count}`);
    return { shouldSnapshot: ({ eventsSinceSnapshot }) => eventsSinceSnapshot >= count };
  },
  /** When a load took longer than `milliseconds` and applied at least one event. */
  slowerThan(milliseconds: number): SnapshotPolicy {
    if (!(milliseconds >= 0)) throw new InvalidOptionError(`SnapshotPolicies.slowerThan needs milliseconds of 0 or more, got ${milliseconds}`);
    return { shouldSnapshot: ({ loadMs, eventsSinceSnapshot }) => eventsSinceSnapshot > 0 && loadMs > milliseconds };
  },
  /** Your own rule. */
  when<T extends AggregateRoot>(predicate: (decision: SnapshotDecision<T>) => boolean): SnapshotPolicy<T> {
    if (typeof predicate !== 'function') throw new InvalidOptionError('SnapshotPolicies.when needs a function (decision) => boolean');
    return { shouldSnapshot: predicate };
  },
  /** When any of the policies says so. */
  any<T extends AggregateRoot>(...policies: SnapshotPolicy<T>[]): SnapshotPolicy<T> {
    return { shouldSnapshot: (decision) => policies.some((policy) => policy.shouldSnapshot(decision)) };
  },
} as const;
