/**
 * @tributary/postgres: Tributary stores on PostgreSQL.
 */
export { PostgresSnapshotStore } from './postgres-snapshot-store';
export type { PostgresSnapshotStoreOptions } from './postgres-snapshot-store';
export { PostgresReadModelStore } from './postgres-read-model-store';
export type { PostgresReadModelStoreOptions } from './postgres-read-model-store';
export type { PostgresWriter } from './postgres-writer';
export { MissingReadModelTablesError, UnknownReadModelTableError } from './errors/read-model.errors';
/** Re-exported from `@tributary/core`, where every store's transient failure is one class. */
export { ReadModelStoreUnavailableError } from '@tributary/core';
