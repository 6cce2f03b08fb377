import { getMetadataStorage } from '../metadata/metadata-storage';

/** Options of {@link Event}. */
export interface EventOptions {
  /** Schema version of this class's payload, a positive integer. Defaults to 1. */
  version?: number;
}

/**
 * Declares a class as a domain event with a persisted type name and schema version.
 *
 * The name is what is stored, so it is given explicitly and never taken from the
 * class name, which minifiers rename. Payload properties are converted with
 * class-transformer: mark dates and nested classes with `@Type(() => …)`.
 *
 * @example
 * ```ts
 * @Event('ItemAdded', { version: 1 })
 * export class ItemAdded {
 *   constructor(readonly orderId: string, readonly sku: string, readonly quantity: number) {}
 * }
 * ```
 */
export function Event(type: string, options: EventOptions = {}): ClassDecorator {
  return (target) => {
    getMetadataStorage().addEvent({ target, type, version: options.version ?? 1 });
  };
}
