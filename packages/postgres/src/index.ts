/**
 * @tributary/postgres: Tributary stores on PostgreSQL.
 */
export { PostgresSnapshotStore } from './postgres-snapshot-store';
export type { PostgresSnapshotStoreOptions } from './postgres-snapshot-store';
