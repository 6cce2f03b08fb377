import { AnyClass } from '@tributary/core';
import { getProjectionMetadataStorage } from '../metadata/projection-metadata-storage';

/**
 * Binds a projection method to an event class. The method gets the event as an
 * instance of its current version (past versions are upcast first), its
 * envelope, and the writer of the read-model store; its writes commit together
 * with the projection's offset, so each event takes effect once.
 *
 * Throw to refuse the event: an error with `retriable: true` (or one the store
 * calls transient) is retried with backoff; any other makes the event a dead
 * letter and parks its aggregate.
 */
export function On(event: AnyClass): MethodDecorator {
  return (target, propertyKey) => {
    getProjectionMetadataStorage().addHandler({ target: target.constructor, propertyKey: String(propertyKey), event });
  };
}
