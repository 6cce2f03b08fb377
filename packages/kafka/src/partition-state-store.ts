import { EventData } from '@tributary/core';

/** The latest state of one aggregate, as a snapshot: what loading it needs, without its history. */
export interface AggregateSnapshot {
  /** Sequence of the last event the state reflects. */
  readonly version: number;
  /** The aggregate's fields, as JSON-safe data. */
  readonly state: EventData;
  /** Offset of the stream's first event in its events topic partition: where reading its history starts. */
  readonly firstOffset?: string;
}

/**
 * The local state of one command partition: the latest snapshot of every
 * aggregate on it. Restored from the snapshots topic when the partition is
 * assigned, updated after each committed transaction, dropped when the
 * partition leaves. Loading an aggregate reads this store, never the events topic.
 */
export interface PartitionStateStore {
  get(aggregateType: string, aggregateId: string): AggregateSnapshot | undefined;
  set(aggregateType: string, aggregateId: string, snapshot: AggregateSnapshot): void;
  delete(aggregateType: string, aggregateId: string): void;
  /** Number of aggregates held. */
  readonly size: number;
}

/** The default {@link PartitionStateStore}: a map in this process's memory. */
export class InMemoryPartitionStateStore implements PartitionStateStore {
  private readonly snapshots = new Map<string, AggregateSnapshot>();

  get(aggregateType: string, aggregateId: string): AggregateSnapshot | undefined {
    return this.snapshots.get(key(aggregateType, aggregateId));
  }

  set(aggregateType: string, aggregateId: string, snapshot: AggregateSnapshot): void {
    this.snapshots.set(key(aggregateType, aggregateId), snapshot);
  }

  delete(aggregateType: string, aggregateId: string): void {
    this.snapshots.delete(key(aggregateType, aggregateId));
  }

  get size(): number {
    return this.snapshots.size;
  }
}

function key(aggregateType: string, aggregateId: string): string {
  return `${aggregateType}\u0000${aggregateId}`;
}
