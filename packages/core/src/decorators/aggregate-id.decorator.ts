import { getMetadataStorage } from '../metadata/metadata-storage';

/**
 * Marks the property that holds an aggregate's identity. The applier of the
 * creation event sets it; the repository reads it to know which stream to write.
 */
export function AggregateId(): PropertyDecorator {
  return (prototype, propertyKey) => {
    getMetadataStorage().addAggregateId({ target: prototype.constructor, propertyKey: String(propertyKey) });
  };
}
