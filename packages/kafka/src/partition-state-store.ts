import { EventData } from '@tributary/core';
import type { ReplyError } from './command-reply';

/**
 * A command decided on an aggregate, kept so that the same command id sent
 * again is answered with this outcome and decides nothing: the version it
 * reached and how many events it wrote, or the error it was refused with.
 */
export type DecidedCommand = (
  | { readonly id: string; readonly version: number; readonly events: number }
  | { readonly id: string; readonly error: ReplyError }
) & {
  /** The command's type and data, hashed (`commandFingerprint`): the same id with another command is refused. */
  readonly fingerprint?: string;
};

/** The latest state of one aggregate, as a snapshot: what loading it needs, without its history. */
export interface AggregateSnapshot {
  /**
   * Sequence of the last event the state reflects. 0 for an aggregate that does
   * not exist, whose record only keeps the commands refused on it (`decided`).
   */
  readonly version: number;
  /** The aggregate's fields, as JSON-safe data. */
  readonly state: EventData;
  /** Offset of the stream's first event in its events topic partition: where reading its history starts. */
  readonly firstOffset?: string;
  /**
   * The shape version of `state` (see `shapeVersionOf`): the processor rebuilds
   * from the events any aggregate whose state was written in another shape, or
   * with none recorded. Absent for plain streams, which keep no state.
   */
  readonly shape?: string;
  /** The last decided commands, oldest first (see `decidedCommandsPerAggregate`). */
  readonly decided?: readonly DecidedCommand[];
}

/** Whether a snapshot is of an aggregate that exists (not only a record of refused commands). */
export function exists(snapshot: AggregateSnapshot | null | undefined): snapshot is AggregateSnapshot {
  return snapshot !== undefined && snapshot !== null && snapshot.version > 0;
}

/**
 * The local state of one command partition: the latest snapshot of every
 * aggregate on it. Restored from the snapshots topic when the partition is
 * assigned, updated after each committed transaction, dropped when the
 * partition leaves. Loading an aggregate reads this store, never the events topic.
 *
 * A store may also be durable (see {@link FileSystemPartitionStateStore}): it then
 * implements the three optional hooks together. Kafka stays the source of truth:
 * the processor uses persisted state only when the checkpoint it was saved with
 * is exactly the partition's checkpoint in Kafka, read after fencing every other
 * writer; otherwise it clears the store and restores it from the snapshots topics.
 */
export interface PartitionStateStore {
  get(aggregateType: string, aggregateId: string): AggregateSnapshot | undefined;
  set(aggregateType: string, aggregateId: string, snapshot: AggregateSnapshot): void;
  delete(aggregateType: string, aggregateId: string): void;
  /** Number of aggregates held. */
  readonly size: number;
  /** Every snapshot held, as `[aggregateType, aggregateId, snapshot]`. */
  entries(): Iterable<[string, string, AggregateSnapshot]>;
  /**
   * Durable stores: the checkpoint given to the last {@link commit} that was made
   * durable, as found when the store was opened; `undefined` when nothing usable
   * is persisted. The processor treats it as opaque.
   */
  persistedCheckpoint?(): string | undefined;
  /**
   * Durable stores: makes every `set` and `delete` since the last commit durable,
   * together with `checkpoint`, atomically: after a crash the store reopens with
   * either the old checkpoint and state or the new ones, never a mix. Called
   * after each committed transaction, once its changes are applied, and after a
   * restore. Must not throw: on an I/O failure keep the state in memory, leave
   * the persisted checkpoint behind, and try again on the next commit.
   */
  commit?(checkpoint: string): void;
  /** Durable stores: forgets every snapshot, in memory and persisted, before a restore from the topics. */
  clear?(): void;
}

/** The default {@link PartitionStateStore}: a map in this process's memory. */
export class InMemoryPartitionStateStore implements PartitionStateStore {
  private readonly snapshots = new Map<string, AggregateSnapshot>();

  get(aggregateType: string, aggregateId: string): AggregateSnapshot | undefined {
    return this.snapshots.get(stateKey(aggregateType, aggregateId));
  }

  set(aggregateType: string, aggregateId: string, snapshot: AggregateSnapshot): void {
    this.snapshots.set(stateKey(aggregateType, aggregateId), snapshot);
  }

  delete(aggregateType: string, aggregateId: string): void {
    this.snapshots.delete(stateKey(aggregateType, aggregateId));
  }

  get size(): number {
    return this.snapshots.size;
  }

  *entries(): Iterable<[string, string, AggregateSnapshot]> {
    for (const [name, snapshot] of this.snapshots) yield [...splitKey(name), snapshot];
  }

  clear(): void {
    this.snapshots.clear();
  }
}

/** The key of an aggregate in a partition's state: its type and id. */
export function stateKey(aggregateType: string, aggregateId: string): string {
  return `${aggregateType}\u0000${aggregateId}`;
}

/** The type and id of a {@link stateKey}. */
export function splitKey(key: string): [string, string] {
  const separator = key.indexOf('\u0000');
  return [key.slice(0, separator), key.slice(separator + 1)];
}
