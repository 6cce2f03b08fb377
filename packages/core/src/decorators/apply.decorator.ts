import { AnyClass, getMetadataStorage } from '../metadata/metadata-storage';

/**
 * Binds an aggregate method to an event class. The method evolves state from the
 * event and does nothing else: no checks, no I/O, no side effects, because it runs
 * again every time the aggregate is loaded.
 *
 * @example
 * ```ts
 * @Apply(ItemAdded)
 * onItemAdded(event: ItemAdded): void {
 *   this.items.set(event.sku, (this.items.get(event.sku) ?? 0) + event.quantity);
 * }
 * ```
 */
export function Apply(event: AnyClass): MethodDecorator {
  return (target, propertyKey) => {
    getMetadataStorage().addApplier({ target: target.constructor, propertyKey: String(propertyKey), event });
  };
}
