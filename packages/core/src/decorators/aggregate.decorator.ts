import { getMetadataStorage } from '../metadata/metadata-storage';

/** Options of {@link Aggregate}. */
export interface AggregateOptions {
  /**
   * The version of the aggregate's state shape: bump it when the fields change
   * meaning, so snapshots of the old shape are ignored and replaced rather than
   * read wrongly. Defaults to one derived from the aggregate's metadata (its
   * fields' names, its appliers and the events they take), which changes with
   * any of them.
   */
  shapeVersion?: string | number;
}

/**
 * Declares a class as an aggregate with a persisted type name. The class must
 * extend {@link AggregateRoot} and be constructible with no arguments, because
 * loading creates an empty instance and replays its events into it.
 *
 * @example
 * ```ts
 * @Aggregate('Order')
 * export class Order extends AggregateRoot { … }
 * ```
 */
export function Aggregate(type: string, options: AggregateOptions = {}): ClassDecorator {
  return (target) => {
    getMetadataStorage().addAggregate({ target, type, shapeVersion: options.shapeVersion === undefined ? undefined : String(options.shapeVersion) });
  };
}
