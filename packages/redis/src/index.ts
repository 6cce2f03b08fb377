/**
 * @tributary/redis: Tributary stores on Redis.
 */
export { RedisSnapshotStore } from './redis-snapshot-store';
export type { RedisSnapshotStoreOptions } from './redis-snapshot-store';
