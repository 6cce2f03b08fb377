/**
 * @tributary/redis: Tributary stores on Redis.
 */
export { RedisSnapshotStore } from './redis-snapshot-store';
export type { RedisSnapshotStoreOptions } from './redis-snapshot-store';
export { RedisReadModelStore } from './redis-read-model-store';
export type { RedisReadModelStoreOptions } from './redis-read-model-store';
export type { RedisWriter } from './redis-writer';
export { PartialReadModelCommitError, ReservedReadModelKeyError, isRedisConnectionError } from './redis-read-model-store.errors';
/** Re-exported from `@tributary/core`, where every store's transient failure is one class. */
export { ReadModelStoreUnavailableError } from '@tributary/core';
