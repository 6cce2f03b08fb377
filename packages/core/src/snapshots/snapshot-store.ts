import { Snapshot } from './snapshot';

/** Bounds on which snapshot {@link SnapshotStore.load} may return. */
export interface SnapshotQuery {
  /** Only a snapshot at this version or before. */
  readonly maxVersion?: number;
  /** Only a snapshot whose last event occurred at this time or before. */
  readonly asOf?: Date;
}

/**
 * Where snapshots are kept: in memory, PostgreSQL, Redis, a compacted Kafka
 * topic. Every implementation passes `snapshotStoreContract` from
 * `@tributary/testing`.
 *
 * A store keeps at least the newest snapshot of each aggregate, and may keep
 * older ones; `save` of an older version than the one kept never replaces it.
 */
export interface SnapshotStore {
  /** Keeps the snapshot, unless the store holds a newer one of that aggregate. */
  save(snapshot: Snapshot): Promise<void>;
  /** The newest snapshot of the aggregate within the bounds, or undefined. */
  load(aggregateType: string, aggregateId: string, query?: SnapshotQuery): Promise<Snapshot | undefined>;
  /** Forgets every snapshot of the aggregate (erasure). */
  delete(aggregateType: string, aggregateId: string): Promise<void>;
}
