import { getMetadataStorage } from '../metadata/metadata-storage';

/**
 * Marks the property of a command that names the aggregate it is for, so the
 * command bus knows which aggregate to load before running the handler.
 *
 * @example
 * ```ts
 * export class AddItem {
 *   @TargetAggregateId() readonly orderId!: string;
 * }
 * ```
 */
export function TargetAggregateId(): PropertyDecorator {
  return (prototype, propertyKey) => {
    getMetadataStorage().addTargetAggregateId({ target: prototype.constructor, propertyKey: String(propertyKey) });
  };
}
