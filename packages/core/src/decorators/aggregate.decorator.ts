import { getMetadataStorage } from '../metadata/metadata-storage';

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
export function Aggregate(type: string): ClassDecorator {
  return (target) => {
    getMetadataStorage().addAggregate({ target, type });
  };
}
