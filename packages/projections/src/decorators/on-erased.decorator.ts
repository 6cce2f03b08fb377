import { getProjectionMetadataStorage } from '../metadata/projection-metadata-storage';

/**
 * Binds a projection method to the erasure of an aggregate (a tombstone in its
 * events topic): `(erased: ErasedAggregate, writer)`. Erasure writes one
 * tombstone per event, so the method runs once for each and must be idempotent,
 * as a delete is.
 */
export function OnErased(): MethodDecorator {
  return (target, propertyKey) => {
    getProjectionMetadataStorage().addErasureHandler({ target: target.constructor, propertyKey: String(propertyKey) });
  };
}
